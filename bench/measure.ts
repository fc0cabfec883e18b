/**
 * Measuring whole processes: wall time, CPU time (user + sys) and peak RSS of a child and its
 * descendants, a long-running server's per-step peak RSS and CPU, and the size of a directory.
 *
 * Child rusage comes from GNU time (`/usr/bin/time -f`), which reports getrusage(RUSAGE_CHILDREN)
 * after wait(): exact, and it covers helpers the child spawns (git's filter processes, xargs).
 * Without GNU time, a python3 one-liner does the same (its peak RSS can read ~10 MB high for tiny
 * tools: the forked child holds python's pages until it execs); without either, CPU and RSS are
 * reported as unknown rather than guessed.
 */
import { spawn, execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, readdir, lstat, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { track } from './cleanup.js';

const execFileP = promisify(execFile);

export interface ProcessSample {
  wallMs: number;
  /** User + system CPU of the child and its waited-for descendants; null when unmeasurable. */
  cpuMs: number | null;
  /** The system (kernel) part of cpuMs. */
  sysCpuMs: number | null;
  /** Largest RSS of the child or any descendant (getrusage ru_maxrss); null when unmeasurable. */
  peakRssBytes: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

type Wrapper = (statsFile: string, cmd: string, args: readonly string[]) => [string, string[]];

const PY_RUSAGE = [
  'import resource, subprocess, sys',
  'rc = subprocess.call(sys.argv[2:])',
  'r = resource.getrusage(resource.RUSAGE_CHILDREN)',
  // ru_maxrss is in KiB on Linux, like GNU time's %M.
  'open(sys.argv[1], "w").write("%f %f %d" % (r.ru_utime, r.ru_stime, r.ru_maxrss))',
  'sys.exit(rc if rc >= 0 else 128 - rc)',
].join('\n');

let wrapper: Wrapper | null | undefined;
let method = '';

/** Pick how rusage is collected, once: GNU time, else python3, else nothing; returns which. */
export async function rusageMethod(): Promise<string> {
  if (wrapper !== undefined) return method;
  const ok = (file: string, args: string[], test: (out: string) => boolean) =>
    execFileP(file, args).then((r) => test(r.stdout + r.stderr), () => false);
  if (await ok('/usr/bin/time', ['--version'], (out) => /GNU/.test(out))) {
    wrapper = (stats, cmd, args) => ['/usr/bin/time', ['-f', '%U %S %M', '-o', stats, cmd, ...args]];
    method = 'GNU time';
  } else if (await ok('python3', ['-c', 'import resource'], () => true)) {
    wrapper = (stats, cmd, args) => ['python3', ['-c', PY_RUSAGE, stats, cmd, ...args]];
    method = 'python3 getrusage(RUSAGE_CHILDREN)';
  } else {
    wrapper = null;
    method = 'none: CPU and RSS unknown (apt-get install time)';
  }
  return method;
}

let statsCounter = 0;

/** Run `cmd args` to completion and measure it; a non-zero exit is an error carrying stderr. */
export async function runTimed(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessSample> {
  await rusageMethod();
  const statsFile = join(process.env['TMPDIR'] ?? '/tmp', `datactl-bench-rusage-${process.pid}-${statsCounter++}`);
  const [file, argv] = wrapper ? wrapper(statsFile, cmd, args) : [cmd, [...args]];
  const started = performance.now();
  const { code, stdout, stderr } = await spawnCollect(file, argv, options);
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${stderr.slice(-4000)}`);
  const usage = wrapper ? await readStats(statsFile) : { cpuMs: null, sysCpuMs: null, peakRssBytes: null };
  return { wallMs, ...usage, stdout, stderr };
}

async function readStats(statsFile: string): Promise<Pick<ProcessSample, 'cpuMs' | 'sysCpuMs' | 'peakRssBytes'>> {
  // GNU time may prefix a "Command exited with non-zero status" line; the figures are the last line.
  const text = (await readFile(statsFile, 'utf8')).trim().split('\n').pop() ?? '';
  await rm(statsFile, { force: true });
  const [user, sys, maxKib] = text.split(/\s+/).map(Number);
  if (![user, sys, maxKib].every((n) => Number.isFinite(n))) return { cpuMs: null, sysCpuMs: null, peakRssBytes: null };
  return { cpuMs: (user! + sys!) * 1000, sysCpuMs: sys! * 1000, peakRssBytes: maxKib! * 1024 };
}

const KEEP_OUTPUT = 1 << 20;

/** Spawn, keep at most 1 MiB of each stream (restic and git can be chatty), resolve on exit. */
function spawnCollect(file: string, argv: readonly string[], options: RunOptions): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const untrack = track(`process ${file}`, async () => void child.kill('SIGTERM'));
    const out = { stdout: '', stderr: '' };
    const keep = (key: 'stdout' | 'stderr') => (d: Buffer) => {
      if (out[key].length < KEEP_OUTPUT) out[key] += d.toString();
    };
    child.stdout.on('data', keep('stdout'));
    child.stderr.on('data', keep('stderr'));
    child.on('error', (err) => {
      untrack();
      reject(err);
    });
    child.on('close', (code, signal) => {
      untrack();
      resolve({ code: code ?? (signal ? 128 : 1), ...out });
    });
  });
}

/**
 * Per-step figures of a long-running process (the datactl server): writing 5 to clear_refs resets
 * the kernel's RSS high-water mark, so VmHWM read after a step is that step's peak. CPU comes
 * from /proc/<pid>/stat (utime + stime, in clock ticks).
 */
export class ProcWatch {
  private start = { user: 0, sys: 0 };
  private hwmResettable = true;

  constructor(readonly pid: number) {}

  async begin(): Promise<void> {
    try {
      await writeFile(`/proc/${this.pid}/clear_refs`, '5');
    } catch {
      this.hwmResettable = false; // the peak then covers the process lifetime; reported as such
    }
    this.start = await this.cpuTicks();
  }

  async end(): Promise<{ peakRssBytes: number | null; cpuMs: number | null; sysCpuMs: number | null }> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8').catch(() => '');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    const ticks = await this.cpuTicks();
    return {
      peakRssBytes: hwm && this.hwmResettable ? Number(hwm[1]) * 1024 : null,
      cpuMs: ((ticks.user + ticks.sys - this.start.user - this.start.sys) * 1000) / CLOCK_TICKS,
      sysCpuMs: ((ticks.sys - this.start.sys) * 1000) / CLOCK_TICKS,
    };
  }

  private async cpuTicks(): Promise<{ user: number; sys: number }> {
    const stat = await readFile(`/proc/${this.pid}/stat`, 'utf8').catch(() => '');
    // Fields after the ")" that ends the command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]), sys: Number(fields[12]) };
  }
}

/** sysconf(_SC_CLK_TCK); 100 on every Linux this runs on (read once from getconf when present). */
let CLOCK_TICKS = 100;
export async function initClockTicks(): Promise<void> {
  const r = await execFileP('getconf', ['CLK_TCK']).catch(() => undefined);
  const n = Number(r?.stdout.trim());
  if (n > 0) CLOCK_TICKS = n;
}

/** Apparent size in bytes of everything under `path` (`du -sb`); a Node walk when du is missing. */
export async function diskUsage(path: string): Promise<number> {
  if (!existsSync(path)) return 0;
  const du = await execFileP('du', ['-sb', path], { maxBuffer: 1 << 20 }).catch(() => undefined);
  const n = du ? Number(du.stdout.split(/\s/)[0]) : NaN;
  return Number.isFinite(n) ? n : walkSize(path);
}

async function walkSize(path: string): Promise<number> {
  const info = await lstat(path);
  if (!info.isDirectory()) return info.size;
  let total = info.size;
  for (const name of await readdir(path)) total += await walkSize(join(path, name));
  return total;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median (mean of the middle two for an even count), min and max; null when no value is known. */
export function spread(values: readonly (number | null | undefined)[]): Spread | null {
  const known = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((x, y) => x - y);
  if (known.length === 0) return null;
  const mid = known.length >> 1;
  const median = known.length % 2 ? known[mid]! : (known[mid - 1]! + known[mid]!) / 2;
  return { median, min: known[0]!, max: known[known.length - 1]!, n: known.length };
}

/**
 * CPU time the hypervisor gave to other guests so far, over all of this machine's CPUs, in ms (the
 * `steal` column of /proc/stat); null where the kernel does not report it. On a shared VM a step
 * that ran while half the CPU was stolen takes up to twice as long: the figure says which
 * medians to trust.
 */
export function stolenCpuMs(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    const ticks = fields[0] === 'cpu' && fields.length > 8 ? Number(fields[8]) : NaN;
    return Number.isFinite(ticks) ? ticks * (1000 / CLOCK_TICKS_PER_S) : null;
  } catch {
    return null;
  }
}

/** USER_HZ: /proc/stat counts in these on every Linux architecture Node supports. */
const CLOCK_TICKS_PER_S = 100;
