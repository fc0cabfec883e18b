/**
 * The environment a run measured, recorded next to its figures: on another machine (or this one
 * under other load) the same code gives other numbers, and the report must say which these are.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

async function out(cmd: string, args: string[], cwd?: string): Promise<string | undefined> {
  const r = await execFileP(cmd, args, { cwd, maxBuffer: 1 << 20 }).catch(() => undefined);
  return r?.stdout.trim() || undefined;
}

/** Device, file system and rotational flag of the disk holding `path`. */
async function disk(path: string): Promise<string> {
  const mount = await out('findmnt', ['-n', '-o', 'SOURCE,FSTYPE,OPTIONS', '-T', path]);
  const source = mount?.split(/\s+/)[0];
  const dev = source?.replace(/^\/dev\//, '');
  const rota = dev ? await out('cat', [`/sys/block/${dev}/queue/rotational`]) : undefined;
  const kind = rota === '0' ? 'kernel reports non-rotational' : rota === '1' ? 'kernel reports rotational' : 'type unknown';
  const free = await out('df', ['-h', '--output=size,avail', path]);
  const [size, avail] = free?.split('\n')[1]?.trim().split(/\s+/) ?? [];
  return `${mount?.split(/\s+/).slice(0, 2).join(' ') ?? 'unknown mount'} (${kind}), ${size ?? '?'} of which ${avail ?? '?'} free`;
}

/** The datactl checkout: commit and whether the working tree differs (read-only git commands). */
async function checkout(root: string): Promise<string> {
  const head = await out('git', ['rev-parse', '--short=12', 'HEAD'], root);
  // --no-optional-locks: `status` must not refresh (write) the index of a checkout others use.
  const dirty = await out('git', ['--no-optional-locks', 'status', '--porcelain', '--untracked-files=no'], root);
  return head ? `${head}${dirty ? ' + uncommitted changes' : ''}` : 'unknown';
}

export async function environment(root: string, workDir: string, rusage: string): Promise<Record<string, unknown>> {
  const cpu = cpus();
  return {
    cpus: `${cpu.length} x ${cpu[0]?.model.trim() ?? 'unknown'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: release(),
    os: (await out('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"'])) ?? 'unknown',
    node: process.version,
    disk: await disk(workDir),
    datactl: await checkout(root),
    rusage,
    loadAtStart: loadavg().map((n) => n.toFixed(2)).join(' '),
  };
}
