/**
 * Planning a put: which local files go to which repo paths. `destinationFor` and `joinRelative`
 * are pure; `planSources` lists and stats the local file system (sorted, deterministic).
 */
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { fail } from '../../src/errors.js';
import { isPlainName, MAX_PATH_BYTES, parseRepoPath, type RepoPath } from '../../src/types.js';
import { FileKind, scanTree, STAT_FIELDS, statFiles, type TreeScan } from './scan-tasks.js';
import { FP_FIELDS, type Fingerprint, type PutIndex } from './stat-cache.js';
import { errnoText } from './errno.js';

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
 * The files of a put, in order, kept compact: a re-put of 100k unchanged files should cost little
 * more than their stat calls, so a file is a few numbers, not objects and strings. Paths come in
 * parts: a part is a string of NUL-separated relative paths (one subtree's scan) with the local
 * and repo prefixes they go under, and a file is a range of it; its strings are built on demand.
 */
export class FileList {
  /** FP_FIELDS numbers per file: size, mtimeMs, ctimeMs, ino, dev (size NaN: stdin). */
  fp = new Float64Array(FP_FIELDS * 256);
  /** Per file: its part, and where its relative path starts and ends in the part's text. */
  private part = new Int32Array(256);
  private start = new Int32Array(256);
  private end = new Int32Array(256);
  private readonly texts: string[] = [];
  private readonly localBases: string[] = [];
  private readonly destBases: string[] = [];
  length = 0;
  hasStdin = false;

  /** A part: files at `localBase + piece` go to `destBase + piece`, pieces being ranges of `text`. */
  addPart(localBase: string, destBase: string, text: string): number {
    this.texts.push(text);
    this.localBases.push(localBase);
    this.destBases.push(destBase);
    return this.texts.length - 1;
  }

  /** The file `text.slice(start, end)` of `part`, stat'ed as `stats[at...]` (STAT_FIELDS: kind, then the fingerprint). */
  add(part: number, start: number, end: number, stats: Float64Array, at: number): void {
    const o = this.grow(part, start, end);
    for (let k = 0; k < FP_FIELDS; k++) this.fp[o + k] = stats[at + 1 + k]!;
  }

  /** A file given by its own paths. */
  addFile(local: string, dest: RepoPath, stats: Float64Array, at: number): void {
    this.add(this.addPart(local, dest, ''), 0, 0, stats, at);
  }

  addStdin(dest: RepoPath): void {
    this.fp[this.grow(this.addPart(STDIN, dest, ''), 0, 0)] = NaN;
    this.hasStdin = true;
  }

  local(i: number): string {
    const p = this.part[i]!;
    return this.localBases[p]! + this.texts[p]!.slice(this.start[i]!, this.end[i]!);
  }

  dest(i: number): RepoPath {
    const p = this.part[i]!;
    return (this.destBases[p]! + this.texts[p]!.slice(this.start[i]!, this.end[i]!)) as RepoPath;
  }

  /** The put index entry of file `i`'s repo path (PutIndex.find), without building the path. */
  findIn(index: PutIndex, i: number): number {
    const p = this.part[i]!;
    return index.find(this.destBases[p]!, this.texts[p]!, this.start[i]!, this.end[i]!);
  }

  size(i: number): number | undefined {
    const size = this.fp[i * FP_FIELDS]!;
    return Number.isNaN(size) ? undefined : size;
  }

  job(i: number): FileJob {
    const size = this.size(i);
    const job: FileJob = { local: this.local(i), dest: this.dest(i), size };
    if (size !== undefined) {
      const o = i * FP_FIELDS;
      job.fingerprint = { size, mtimeMs: this.fp[o + 1]!, ctimeMs: this.fp[o + 2]!, ino: this.fp[o + 3]!, dev: this.fp[o + 4]! };
    }
    return job;
  }

  *[Symbol.iterator](): Generator<FileJob> {
    for (let i = 0; i < this.length; i++) yield this.job(i);
  }

  private grow(part: number, start: number, end: number): number {
    const i = this.length++;
    if (i === this.part.length) {
      const n = i * 2;
      this.part = resized(this.part, n);
      this.start = resized(this.start, n);
      this.end = resized(this.end, n);
      const fp = new Float64Array(n * FP_FIELDS);
      fp.set(this.fp);
      this.fp = fp;
    }
    this.part[i] = part;
    this.start[i] = start;
    this.end[i] = end;
    return i * FP_FIELDS;
  }
}

function resized(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(n);
  b.set(a);
  return b;
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
    if (kind === FileKind.Missing) throw fail('E_BAD_REQUEST', `cannot read ${JSON.stringify(local)}: ${errnoText({ code: 'ENOENT' })}`, { local });
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
        if (stats[at] === FileKind.File) list.addFile(c.local, c.dest, stats, at);
        else skip(c, stats[at]!);
      }
    } else {
      const { paths, stats, irregular, others } = await part.scan.catch((err: NodeJS.ErrnoException) => {
        throw fail('E_BAD_REQUEST', `cannot read ${JSON.stringify(part.local)}: ${errnoText(err)}`, { local: part.local });
      });
      for (const rel of others) options.onSkip?.(`${part.local}/${rel}`, 'not a regular file');
      if (paths === '') continue;
      const destBase = `${part.destDir}/`;
      const p = list.addPart(`${part.local}/`, destBase, paths);
      // A path with an irregular name, or long enough to approach the limits, gets the full check.
      for (const k of irregular) parseRepoPath(destBase + paths.split('\0')[k]);
      const longest = MAX_PATH_BYTES / 3 - destBase.length;
      for (let k = 0, start = 0; start <= paths.length; k++) {
        let end = paths.indexOf('\0', start);
        if (end < 0) end = paths.length;
        const at = k * STAT_FIELDS;
        if (stats[at] !== FileKind.File) skip({ local: `${part.local}/${paths.slice(start, end)}`, dest: '/' as RepoPath, given: false }, stats[at]!);
        else {
          if (end - start > longest) parseRepoPath(destBase + paths.slice(start, end));
          list.add(p, start, end, stats, at);
        }
        start = end + 1;
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
    const dest = list.dest(i);
    const other = seen.get(dest);
    if (other !== undefined) {
      throw fail('E_BAD_REQUEST', `${JSON.stringify(other)} and ${JSON.stringify(list.local(i))} would both be put at ${dest}`, { path: dest });
    }
    seen.set(dest, list.local(i));
  }
}

/** `destDir/name` for a name straight from readdir (see isPlainName). */
function childPath(destDir: string, name: string): RepoPath {
  const path = `${destDir}/${name}`;
  if (isPlainName(name) && path.length <= MAX_PATH_BYTES / 3) return path as RepoPath;
  return parseRepoPath(path);
}
