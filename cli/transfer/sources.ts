/**
 * Planning a put: which local files go to which repo paths. `destinationFor` and `joinRelative`
 * are pure; `planSources` stats and walks the local file system (sorted, deterministic).
 */
import { opendir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fail } from '../../src/errors.js';
import { parseRepoPath, type RepoPath } from '../../src/types.js';

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
}

export interface PlanOptions {
  dest: Destination;
  sources: readonly string[];
  recursive: boolean;
  /** Told about skipped entries (symlinks to directories, sockets, ...). */
  onSkip?: (local: string, why: string) => void;
}

async function kindOf(local: string): Promise<{ kind: SourceKind; size: number | undefined }> {
  if (local === STDIN) return { kind: 'stdin', size: undefined };
  const info = await stat(local).catch((err: NodeJS.ErrnoException) => {
    throw fail('E_BAD_REQUEST', `cannot read ${JSON.stringify(local)}: ${err.code ?? err.message}`, { local });
  });
  if (info.isDirectory()) return { kind: 'dir', size: undefined };
  if (info.isFile()) return { kind: 'file', size: info.size };
  throw fail('E_BAD_REQUEST', `${JSON.stringify(local)} is not a regular file or directory`, { local });
}

/** Expand the sources into file jobs, in order; rejects two sources mapping to one path. */
export async function planSources(options: PlanOptions): Promise<FileJob[]> {
  const multiple = options.sources.length > 1;
  const jobs: FileJob[] = [];
  for (const local of options.sources) {
    const { kind, size } = await kindOf(local);
    const target = destinationFor(options.dest, kind, local, multiple);
    if (kind !== 'dir') {
      jobs.push({ local, dest: target, size });
      continue;
    }
    if (!options.recursive) {
      throw fail('E_BAD_REQUEST', `${JSON.stringify(local)} is a directory; use -r to put it recursively`, { local });
    }
    for await (const f of walk(local, [], options.onSkip)) jobs.push({ local: f.local, dest: joinRelative(target, f.rel), size: f.size });
  }
  rejectDuplicates(jobs);
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

interface WalkedFile {
  local: string;
  rel: string[];
  size: number;
}

const STAT_PARALLELISM = 64;

/** Recursively list regular files under `dir`, sorted by name at every level. */
async function* walk(dir: string, rel: string[], onSkip: PlanOptions['onSkip']): AsyncGenerator<WalkedFile> {
  const names: { name: string; kind: 'file' | 'dir' | 'link' | 'other' }[] = [];
  for await (const d of await opendir(dir)) {
    const kind = d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'link' : 'other';
    names.push({ name: d.name, kind });
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 0; i < names.length; i += STAT_PARALLELISM) {
    const group = names.slice(i, i + STAT_PARALLELISM);
    const infos = await Promise.all(group.map((e) => (e.kind === 'dir' || e.kind === 'other' ? undefined : statOrNull(join(dir, e.name)))));
    for (const [j, entry] of group.entries()) {
      const local = join(dir, entry.name);
      const info = infos[j];
      if (entry.kind === 'dir') yield* walk(local, [...rel, entry.name], onSkip);
      else if (entry.kind === 'other') onSkip?.(local, 'not a regular file');
      else if (!info) onSkip?.(local, 'broken symlink or vanished');
      else if (info.isFile()) yield { local, rel: [...rel, entry.name], size: info.size };
      else onSkip?.(local, info.isDirectory() ? 'symlink to a directory' : 'not a regular file');
    }
  }
}

async function statOrNull(local: string) {
  try {
    return await stat(local);
  } catch {
    return null;
  }
}
