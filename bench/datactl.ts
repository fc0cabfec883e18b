/**
 * datactl behind the Tool interface: a real `datactl serve` process per session (loopback, port
 * 0, a fresh data dir whose size is the store), and the real CLI as one process per step.
 *
 * The build is snapshotted once per bench run (dist/ copied to bench/work/build/): other people
 * rebuild dist/ while a full run takes an hour, and every step must run the same code.
 *
 * Profiling (`profileDir`): the client runs with --cpu-prof, and the server is restarted on the
 * same data dir with --cpu-prof around each step, so each profile covers exactly one step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { track } from './cleanup.js';
import { diskUsage, ProcWatch, runTimed } from './measure.js';
import type { Probe, Session, StepSample, Target, Tool } from './tool.js';

const REPO = 'bench';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 60_000;

/** Copy the current build to `into` and return its CLI entry point. */
export async function snapshotBuild(root: string, into: string): Promise<string> {
  await rm(into, { recursive: true, force: true });
  await mkdir(join(into, 'bin'), { recursive: true });
  for (const part of ['src', 'server', 'cli', 'hooks']) {
    await cp(join(root, 'dist', part), join(into, 'dist', part), { recursive: true }).catch(() => undefined);
  }
  await cp(join(root, 'bin', 'datactl.js'), join(into, 'bin', 'datactl.js'));
  // package.json: "type": "module", and the version the CLI prints; node_modules: the checkout's,
  // so the snapshot works wherever --work puts it.
  await cp(join(root, 'package.json'), join(into, 'package.json'));
  await symlink(join(root, 'node_modules'), join(into, 'node_modules'), 'dir');
  return join(into, 'bin', 'datactl.js');
}

interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Start `datactl serve` on 127.0.0.1, port 0, and wait for the URL it prints. */
export async function startServer(bin: string, dataDir: string, nodeArgs: string[] = []): Promise<Server> {
  const args = [...nodeArgs, bin, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    // SIGTERM lets it close LevelDB and write its CPU profile; a hung one is killed.
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  const untrack = track(`datactl server ${child.pid}`, stop);
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`datactl serve did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`datactl serve exited with ${code} before listening:\n${output}`));
    });
  });
  if (!/^http:\/\/(127\.0\.0\.1|\[::1\]|localhost):\d+$/.test(url)) throw new Error(`datactl serve is not on loopback: ${url}`);
  return { url, child, stop: async () => (await stop(), untrack()) };
}

export interface DatactlOptions {
  bin: string;
  /** Write CPU profiles of the client and the server here, one per step. */
  profileDir?: string;
}

export function datactlTool(options: DatactlOptions): Tool {
  return {
    name: 'datactl',
    what: { put: 'datactl put file (CLI process) into a datactl serve process', get: 'datactl get file' },
    async probe(): Promise<Probe> {
      const r = await runTimed(process.execPath, [options.bin, '--version']).catch(() => undefined);
      return r ? { available: true, version: `datactl ${r.stdout.trim()}, node ${process.version}` } : { available: false, reason: 'not built (npm run build)' };
    },
    open: (dir) => openSession(options, dir),
  };
}

async function openSession(options: DatactlOptions, dir: string): Promise<Session> {
  const stageDir = join(dir, 'stage');
  const dataDir = join(dir, 'server-data');
  await mkdir(stageDir, { recursive: true });
  let server = await startServer(options.bin, dataDir);
  let version = 0;
  const cli = (args: string[], label?: string) => {
    const prof = options.profileDir && label ? ['--cpu-prof', '--cpu-prof-dir', join(options.profileDir, `client-${label}`)] : [];
    // The CLI's caches (the put index) live with the session, not in the user's ~/.cache.
    return runTimed(process.execPath, [...prof, options.bin, '--json', '--server', server.url, ...args], { env: { DATACTL_CACHE_DIR: join(dir, 'cli-cache') } });
  };
  await cli(['repo', 'create', REPO]);

  /** Run one CLI step with the server watched (and, when profiling, freshly started with --cpu-prof). */
  const step = async (label: string, args: string[]): Promise<StepSample> => {
    if (options.profileDir) {
      await server.stop();
      server = await startServer(options.bin, dataDir, ['--cpu-prof', '--cpu-prof-dir', join(options.profileDir, `server-${label}`)]);
    }
    const watch = new ProcWatch(server.child.pid!);
    await watch.begin();
    const sample = await cli(args, label);
    const serverFigures = await watch.end();
    const json = JSON.parse(sample.stdout) as { uploadedBytes?: number };
    if (options.profileDir) await server.stop(); // flushes the server profile of this step
    return { ...sample, server: serverFigures, ...(typeof json.uploadedBytes === 'number' ? { sentBytes: json.uploadedBytes } : {}) };
  };
  const recursive = (t: Target) => (t.kind === 'tree' ? ['-r'] : []);

  return {
    stageDir,
    put: (t) => step(t.label, ['put', 'file', `${REPO}@main:/${t.name}`, '-f', join(stageDir, t.name), ...recursive(t), '-m', `v${++version}`]),
    get: (t, outDir) => step(t.label, ['get', 'file', `${REPO}@main:/${t.name}`, '-o', join(outDir, t.name), ...recursive(t)]),
    putOne: (t, rel) => step(t.label, ['put', 'file', `${REPO}@main:/${t.name}/${rel}`, '-f', join(stageDir, t.name, rel), '-m', `v${++version}`]),
    storeBytes: () => diskUsage(dataDir),
    close: () => server.stop(),
  };
}
