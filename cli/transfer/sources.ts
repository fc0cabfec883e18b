/**
 * Planning a put: which local files go to which repo paths. `destinationFor` and `joinRelative`
 * are pure; `planSources` walks and stats the local file system (sorted, deterministic).
 */
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { fail } from '../../src/errors.js';
import { MAX_PATH_BYTES, MAX_SEGMENT_BYTES, parseRepoPath, type RepoPath } from '../../src/types.js';
import { FileKind, STAT_FIELDS, statFiles } from './file-tasks.js';
import type { Fingerprint } from './stat-cache.js';

export type SourceKind = 'file' | 'dir' | 'stdin';

export interface Destination {
  /** The repo path given after `:`, if any. */
  path: RepoPath | undefined;
  /** The user wrote a trailing `/` (or `/` itself): the path is a directory. */
  isDir: boolean;
}

/** `-` is stdin. */
export const STDIN = '-';

/**
 * Where a single source lands. For a file: the destination itself, or `DEST/<basename>` when the
 * destination is a directory (trailing `/`, or several sources), or `/<basename>` with no
 * destination. For a directory: the base under which its contents go (DEST, or `/`). For stdin:
 * the destination, which must name a file.
 */
export function destinationFor(dest: Destination, kind: SourceKind, local: string, multiple: boolean): RepoPath {
  if (kind === 'dir') return dest.path ?? ('/' as RepoPath);
  if (kind === 'stdin') {
    if (!dest.path || dest.isDir || multiple) {
      throw fail('E_INVALID_PATH', 'stdin ("-") needs a single file destination: REPO@BRANCH:/PATH/FILE');
    }
    return dest.path;
  }
  const name = basename(local);
  if (!dest.path) return parseRepoPath(`/${name}`);
  if (dest.isDir || multiple) return joinRelative(dest.path, [name]);
  return dest.path;
}

/** `base` + relative segments, validated (a local name with `\` or control characters is refused). */
export function joinRelative(base: RepoPath, segments: readonly string[]): RepoPath {
  if (segments.length === 0) return base;
  return parseRepoPath(`${base === '/' ? '' : base}/${segments.join('/')}`);
}

export interface FileJob {
  /** Local path, or `-` for stdin. */
  local: string;
  dest: RepoPath;
  /** Size at planning time (undefined for stdin); the actual bytes read are what count. */
  size: number | undefined;
  /** stat of the local file at planning time (undefined for stdin). */
  fingerprint: Fingerprint | undefined;
}

export interface PlanOptions {
  dest: Destination;
  sources: readonly string[];
  recursive: boolean;
  /** Told about skipped entries (symlinks to directories, sockets, ...). */
  onSkip?: (local: string, why: string) => void;
  /** stat many paths at once (FilePool.stat, which runs in worker threads); default inline. */
  statMany?: (paths: string[]) => Promise<Float64Array>;
}

/** Paths per stat request: large enough to amortize a worker round trip, small enough to spread. */
const STAT_GROUP = 2048;

interface Candidate {
  local: string;
  dest: RepoPath;
  /** Named on the command line (an error if unreadable) rather than found in a directory (skipped). */
  given: boolean;
}

/**
 * Expand the sources into file jobs, in order (sorted by name at every level, deterministic);
 * rejects two sources mapping to one path. Directories are listed synchronously (readdir is cheap)
 * and every candidate is stat'ed in groups, in parallel through `statMany`.
 */
export async function planSources(options: PlanOptions): Promise<FileJob[]> {
  const multiple = options.sources.length > 1;
  const statMany = options.statMany ?? (async (paths: string[]) => statFiles(paths));
  const candidates: Candidate[] = [];
  // stat requests go out while the walk continues, a group at a time, so the two overlap.
  const groups: Promise<Float64Array>[] = [];
  const pathsToStat: string[] = [];
  const submit = (all: boolean) => {
    while (pathsToStat.length >= STAT_GROUP || (all && pathsToStat.length > 0)) groups.push(statMany(pathsToStat.splice(0, STAT_GROUP)));
  };
  const add = (c: Candidate) => {
    candidates.push(c);
    if (c.local === STDIN) return;
    pathsToStat.push(c.local);
    if (pathsToStat.length >= STAT_GROUP) submit(false);
  };
  for (const local of options.sources) {
    if (local === STDIN) {
      add({ local, dest: destinationFor(options.dest, 'stdin', local, multiple), given: true });
      continue;
    }
    const [kind] = statFiles([local]);
    if (kind === FileKind.Missing) throw fail('E_BAD_REQUEST', `cannot read ${JSON.stringify(local)}: ENOENT`, { local });
    if (kind === FileKind.Other) throw fail('E_BAD_REQUEST', `${JSON.stringify(local)} is not a regular file or directory`, { local });
    if (kind === FileKind.File) {
      add({ local, dest: destinationFor(options.dest, 'file', local, multiple), given: true });
      continue;
    }
    if (!options.recursive) {
      throw fail('E_BAD_REQUEST', `${JSON.stringify(local)} is a directory; use -r to put it recursively`, { local });
    }
    const base = destinationFor(options.dest, 'dir', local, multiple);
    walk(local, base === '/' ? '' : base, add, options.onSkip);
  }
  submit(true);
  const stats = await Promise.all(groups);

  const jobs: FileJob[] = [];
  let n = 0;
  for (const c of candidates) {
    if (c.local === STDIN) {
      jobs.push({ local: c.local, dest: c.dest, size: undefined, fingerprint: undefined });
      continue;
    }
    const group = stats[Math.floor(n / STAT_GROUP)]!;
    const o = (n++ % STAT_GROUP) * STAT_FIELDS;
    const kind = group[o];
    if (kind !== FileKind.File) {
      const why = kind === FileKind.Missing ? 'broken symlink or vanished' : kind === FileKind.Directory ? 'symlink to a directory' : 'not a regular file';
      if (c.given) throw fail('E_BAD_REQUEST', `cannot read ${JSON.stringify(c.local)}: ${why}`, { local: c.local });
      options.onSkip?.(c.local, why);
      continue;
    }
    const size = group[o + 1]!;
    const fingerprint = { local: c.local, size, mtimeMs: group[o + 2]!, ctimeMs: group[o + 3]!, ino: group[o + 4]!, dev: group[o + 5]! };
    jobs.push({ local: c.local, dest: c.dest, size, fingerprint });
  }
  // One directory source cannot map two files to one path; several sources can.
  if (options.sources.length > 1) rejectDuplicates(jobs);
  return jobs;
}

function rejectDuplicates(jobs: readonly FileJob[]): void {
  const seen = new Map<string, string>();
  for (const job of jobs) {
    const other = seen.get(job.dest);
    if (other !== undefined) {
      throw fail('E_BAD_REQUEST', `${JSON.stringify(other)} and ${JSON.stringify(job.local)} would both be put at ${job.dest}`, {
        path: job.dest,
      });
    }
    seen.set(job.dest, job.local);
  }
}

/**
 * `destDir/name` for a name straight from readdir (never '', '.', '..' or containing '/'): the
 * common case skips the full path parse, which was a tenth of a 100k-file put's planning time.
 */
function childPath(destDir: string, name: string): RepoPath {
  const path = `${destDir}/${name}`;
  if (PLAIN_NAME.test(name) && name.length <= MAX_SEGMENT_BYTES / 3 && path.length <= MAX_PATH_BYTES / 3) return path as RepoPath;
  return parseRepoPath(path);
}

// eslint-disable-next-line no-control-regex
const PLAIN_NAME = /^[^\x00-\x1f\x7f\\]+$/;

/**
 * List the entries under `dir` recursively (sorted by name at every level) as candidates; what a
 * symlink points to is decided by the stat that follows. `destDir` is the repo directory ('' = root).
 */
function walk(dir: string, destDir: string, out: (c: Candidate) => void, onSkip: PlanOptions['onSkip']): void {
  const entries = readdirSync(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const local = `${dir}/${e.name}`;
    if (e.isDirectory()) walk(local, `${destDir}/${e.name}`, out, onSkip);
    else if (e.isFile() || e.isSymbolicLink()) out({ local, dest: childPath(destDir, e.name), given: false });
    else onSkip?.(local, 'not a regular file');
  }
}
