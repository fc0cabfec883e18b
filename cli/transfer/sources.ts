/**
 * Planning a put: which local files go to which repo paths. `destinationFor` and `joinRelative`
 * are pure; `planSources` lists and stats the local file system (sorted, deterministic).
 */
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { fail } from '../../src/errors.js';
import { MAX_PATH_BYTES, MAX_SEGMENT_BYTES, parseRepoPath, type RepoPath } from '../../src/types.js';
import { FileKind, scanTree, STAT_FIELDS, statFiles, type TreeScan } from './file-tasks.js';
import { FP_FIELDS, type Fingerprint } from './stat-cache.js';

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
  fingerprint?: Fingerprint;
}

/**
 * The files of a put, in order: parallel arrays rather than an object per file, since a re-put of
 * 100k unchanged files should cost little more than their stat calls.
 */
export class FileList {
  readonly locals: string[] = [];
  readonly dests: RepoPath[] = [];
  /** FP_FIELDS numbers per file: size, mtimeMs, ctimeMs, ino, dev (size NaN: stdin). */
  fp = new Float64Array(FP_FIELDS * 256);

  get length(): number {
    return this.dests.length;
  }

  /** A file stat'ed as `stats[at...]` (STAT_FIELDS numbers: kind, then the fingerprint). */
  add(local: string, dest: RepoPath, stats: Float64Array, at: number): void {
    const o = this.grow(local, dest);
    for (let k = 0; k < FP_FIELDS; k++) this.fp[o + k] = stats[at + 1 + k]!;
  }

  addStdin(dest: RepoPath): void {
    this.fp[this.grow(STDIN, dest)] = NaN;
  }

  size(i: number): number | undefined {
    const size = this.fp[i * FP_FIELDS]!;
    return Number.isNaN(size) ? undefined : size;
  }

  job(i: number): FileJob {
    const size = this.size(i);
    const job: FileJob = { local: this.locals[i]!, dest: this.dests[i]!, size };
    if (size !== undefined) {
      const o = i * FP_FIELDS;
      job.fingerprint = { size, mtimeMs: this.fp[o + 1]!, ctimeMs: this.fp[o + 2]!, ino: this.fp[o + 3]!, dev: this.fp[o + 4]! };
    }
    return job;
  }

  *[Symbol.iterator](): Generator<FileJob> {
    for (let i = 0; i < this.length; i++) yield this.job(i);
  }

  private grow(local: string, dest: RepoPath): number {
    const o = this.dests.length * FP_FIELDS;
    if (o + FP_FIELDS > this.fp.length) {
      const grown = new Float64Array(this.fp.length * 2);
      grown.set(this.fp);
      this.fp = grown;
    }
    this.locals.push(local);
    this.dests.push(dest);
    return o;
  }
}

export interface PlanOptions {
  dest: Destination;
  sources: readonly string[];
  recursive: boolean;
  /** Told about skipped entries (symlinks to directories, sockets, ...). */
  onSkip?: (local: string, why: string) => void;
  /** stat many paths at once (FilePool.stat, which runs in worker threads); default inline. */
  statMany?: (paths: string[]) => Promise<Float64Array>;
  /** List and stat a directory tree (FilePool.scan, in a worker thread); default inline. */
  scanTree?: (dir: string) => Promise<TreeScan>;
}

/** Paths per stat request: large enough to amortize a worker round trip, small enough to spread. */
const STAT_GROUP = 2048;
/**
 * Subdirectories are scanned whole, each by one worker; a level with fewer than SPLIT_MIN of them
 * (a lone `train/`, say) is listed here instead, down to SPLIT_DEPTH levels, so that the scan
 * still spreads over every worker.
 */
const SPLIT_MIN = 8;
const SPLIT_DEPTH = 3;

interface Candidate {
  local: string;
  dest: RepoPath;
  /** Named on the command line (an error if unreadable) rather than found in a directory (skipped). */
  given: boolean;
}

/** A run of the plan, in order: files stat'ed together, a subtree scanned whole, or stdin. */
type Part =
  | { kind: 'files'; files: Candidate[]; stats: Promise<Float64Array> }
  | { kind: 'tree'; local: string; destDir: string; scan: Promise<TreeScan> }
  | { kind: 'stdin'; dest: RepoPath };

/**
 * Expand the sources into files, in order (sorted by name at every level, deterministic); rejects
 * two sources mapping to one path. The top of each directory is listed here; its subtrees are
 * listed and stat'ed through `scanTree`, loose files through `statMany`, all at once.
 */
export async function planSources(options: PlanOptions): Promise<FileList> {
  const multiple = options.sources.length > 1;
  const statMany = options.statMany ?? (async (paths: string[]) => statFiles(paths));
  const scan = options.scanTree ?? (async (dir: string) => scanTree(dir));
  const parts: Part[] = [];
  // Awaited in order later; marked handled now so an early failure is not an unhandled rejection.
  const track = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => undefined);
    return p;
  };
  let loose: Candidate[] = [];
  const flush = () => {
    if (loose.length === 0) return;
    parts.push({ kind: 'files', files: loose, stats: track(statMany(loose.map((c) => c.local))) });
    loose = [];
  };
  const addFile = (c: Candidate) => {
    loose.push(c);
    if (loose.length >= STAT_GROUP) flush();
  };
  const expand = (dir: string, destDir: string, depth: number) => {
    const entries = readdirSync(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const open = depth < SPLIT_DEPTH && entries.filter((e) => e.isDirectory()).length < SPLIT_MIN;
    for (const e of entries) {
      const local = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        const sub = `${destDir}/${e.name}`;
        if (open) expand(local, sub, depth + 1);
        else {
          flush();
          parts.push({ kind: 'tree', local, destDir: sub, scan: track(scan(local)) });
        }
      } else if (e.isFile() || e.isSymbolicLink()) addFile({ local, dest: childPath(destDir, e.name), given: false });
      else options.onSkip?.(local, 'not a regular file');
    }
  };
  for (const local of options.sources) {
    if (local === STDIN) {
      flush();
      parts.push({ kind: 'stdin', dest: destinationFor(options.dest, 'stdin', local, multiple) });
      continue;
    }
    const [kind] = statFiles([local]);
    if (kind === FileKind.Missing) throw fail('E_BAD_REQUEST', `cannot read ${JSON.stringify(local)}: ENOENT`, { local });
    if (kind === FileKind.Other) throw fail('E_BAD_REQUEST', `${JSON.stringify(local)} is not a regular file or directory`, { local });
    if (kind === FileKind.File) {
      addFile({ local, dest: destinationFor(options.dest, 'file', local, multiple), given: true });
      continue;
    }
    if (!options.recursive) {
      throw fail('E_BAD_REQUEST', `${JSON.stringify(local)} is a directory; use -r to put it recursively`, { local });
    }
    const base = destinationFor(options.dest, 'dir', local, multiple);
    expand(local, base === '/' ? '' : base, 0);
  }
  flush();

  const list = new FileList();
  const skip = (c: Candidate, kind: number) => {
    const why = kind === FileKind.Missing ? 'broken symlink or vanished' : kind === FileKind.Directory ? 'symlink to a directory' : 'not a regular file';
    if (c.given) throw fail('E_BAD_REQUEST', `cannot read ${JSON.stringify(c.local)}: ${why}`, { local: c.local });
    options.onSkip?.(c.local, why);
  };
  for (const part of parts) {
    if (part.kind === 'stdin') {
      list.addStdin(part.dest);
    } else if (part.kind === 'files') {
      const stats = await part.stats;
      for (let k = 0; k < part.files.length; k++) {
        const c = part.files[k]!;
        const at = k * STAT_FIELDS;
        if (stats[at] === FileKind.File) list.add(c.local, c.dest, stats, at);
        else skip(c, stats[at]!);
      }
    } else {
      const { paths, stats, others } = await part.scan.catch((err: NodeJS.ErrnoException) => {
        throw fail('E_BAD_REQUEST', `cannot read ${JSON.stringify(part.local)}: ${err.message}`, { local: part.local });
      });
      for (const rel of others) options.onSkip?.(`${part.local}/${rel}`, 'not a regular file');
      if (paths === '') continue;
      const rels = paths.split('\0');
      for (let k = 0; k < rels.length; k++) {
        const at = k * STAT_FIELDS;
        const local = `${part.local}/${rels[k]}`;
        if (stats[at] === FileKind.File) list.add(local, treePath(part.destDir, rels[k]!), stats, at);
        else skip({ local, dest: '/' as RepoPath, given: false }, stats[at]!);
      }
    }
  }
  // One directory source cannot map two files to one path; several sources can.
  if (options.sources.length > 1) rejectDuplicates(list);
  return list;
}

function rejectDuplicates(list: FileList): void {
  const seen = new Map<string, string>();
  for (let i = 0; i < list.length; i++) {
    const dest = list.dests[i]!;
    const other = seen.get(dest);
    if (other !== undefined) {
      throw fail('E_BAD_REQUEST', `${JSON.stringify(other)} and ${JSON.stringify(list.locals[i])} would both be put at ${dest}`, { path: dest });
    }
    seen.set(dest, list.locals[i]!);
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

/** `destDir/rel` for a relative path scanTree built from readdir names, checked as childPath does. */
function treePath(destDir: string, rel: string): RepoPath {
  const path = `${destDir}/${rel}`;
  if (PLAIN_NAME.test(rel) && path.length <= MAX_PATH_BYTES / 3 && segmentsShort(rel)) return path as RepoPath;
  return parseRepoPath(path);
}

/** Every `/`-separated segment of `rel` is at most MAX_SEGMENT_BYTES / 3 characters (so bytes). */
function segmentsShort(rel: string): boolean {
  const max = MAX_SEGMENT_BYTES / 3;
  if (rel.length <= max) return true;
  for (let from = 0; ; ) {
    const slash = rel.indexOf('/', from);
    const end = slash < 0 ? rel.length : slash;
    if (end - from > max) return false;
    if (slash < 0) return true;
    from = slash + 1;
  }
}

// eslint-disable-next-line no-control-regex
const PLAIN_NAME = /^[^\x00-\x1f\x7f\\]+$/;
