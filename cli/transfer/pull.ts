/**
 * pull: fetch exactly the commit a pin names (all of it, or some paths) into a directory, each
 * file at its repo path (`/a/b.csv` -> `<out>/a/b.csv`), every byte verified. For each file, in
 * order: a local file that already hashes right is left alone; else an intact cache entry is
 * copied in (re-hashed); else it is downloaded (the batched small-file path, or streamed) and
 * then added to the cache. A pin that names only a branch is refused unless `allowBranch`.
 * With the output directory named, files in the pulled directories that the commit lacks are
 * counted, and removed with `delete`: those in the way of a download (a directory where the commit
 * now has a file) first, the rest once every file is in place, so a pull that fails part way has
 * not also thrown away the old files.
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fail } from '../../src/errors.js';
import { pinsCommit, type PinEntry } from '../../src/objects/pin-file.js';
import { parseRepoPath, type RepoPath } from '../../src/types.js';
import type { FileEntry } from '../api-types.js';
import type { DatactlClient } from '../client.js';
import { readPin } from '../pinfile.js';
import { NO_PROGRESS, type ProgressSink } from '../progress.js';
import { ContentCache, defaultCacheDir, hashFile } from './cache.js';
import { findExtras, removeExtras, type Extra, type OnUnreadable } from './extras.js';
import { downloadEntries, walkRemote, type PlannedFile, type TreeDownloadTuning } from './get-tree.js';
import { localPaths } from './local-paths.js';

export interface PullOptions extends TreeDownloadTuning {
  /** The pin file and key to read, unless `pin` is given. */
  file?: string;
  key?: string;
  pin?: PinEntry;
  /** Target directory (default `.`; required with `delete`). */
  output?: string;
  /** Repo paths (files or directories) to fetch; default: everything (`/`). */
  paths?: readonly string[];
  /** Accept a pin without a commit id: use its branch's head now (reported in the result). */
  allowBranch?: boolean;
  /** Content cache directory (default: defaultCacheDir()); null turns the cache off. */
  cacheDir?: string | null;
  /**
   * Make each pulled directory an exact copy: remove the files (and directories) in it that the
   * commit does not have, as `rsync --delete` does. Files outside the pulled paths are never
   * touched.
   */
  delete?: boolean;
  progress?: ProgressSink;
  /** Non-fatal problems (the cache could not be written, ...). */
  onWarning?: (message: string) => void;
}

export interface PullResult {
  repo: string;
  branch: string | null;
  commit: string;
  /** True when the pin named no commit and `allowBranch` resolved its branch now. */
  resolvedFromBranch: boolean;
  output: string;
  files: number;
  bytes: number;
  downloadedFiles: number;
  downloadedBytes: number;
  /** Files copied in from the content cache. */
  cachedFiles: number;
  /** Files already present with the right content (not rewritten). */
  upToDateFiles: number;
  /**
   * Files found in the pulled directories that the commit does not have (left, unless `delete`);
   * looked for only when `output` is given.
   */
  extraFiles: number;
  /** Of those, the ones removed (`delete`). */
  removedFiles: number;
}

const PLAN_PARALLELISM = 8;

type LocalState = 'up-to-date' | 'cached' | 'download';

export async function pull(client: DatactlClient, options: PullOptions): Promise<PullResult> {
  if (options.delete && !options.output) {
    // Pulling into "." by default is handy; deleting from it by default would take a code repo's
    // own files with it.
    throw fail('E_BAD_REQUEST', 'pull --delete needs the output directory named (-o DIR): it removes every file there that the commit does not have');
  }
  const pin = options.pin ?? (await readPin(required(options.file, 'file'), required(options.key, 'key')));
  const { commit, resolvedFromBranch } = await pinnedCommit(client, pin, options);
  const output = options.output ?? '.';
  const cache = options.cacheDir === null ? undefined : new ContentCache(options.cacheDir ?? defaultCacheDir());
  const { entries, scopes, points } = await collectEntries(client, pin.repo, commit, options.paths ?? ['/']);
  const localPath = localPaths(output, '/');
  const planned = entries.map((entry) => ({ entry, local: localPath(entry.path) }));
  // Only in a directory named for the data: the default "." is usually the code repo the pin is in.
  const unreadable: OnUnreadable = (local, reason) => options.onWarning?.(`cannot list ${local} (${reason}): files in it that the commit lacks were not counted`);
  const extras = options.output === undefined ? [] : await findExtras(output, scopes, points, new Set(entries.map((e) => e.path)), options.delete ? undefined : unreadable);
  const extraFiles = extras.reduce((n, e) => n + e.files, 0);
  let removedFiles = 0;
  if (options.delete) {
    await refuseToDeleteOwnFiles(extras, cache?.dir);
    removedFiles = await removeExtras(extras.filter((e) => e.blocking));
  }
  const states = await mapLimit(planned, PLAN_PARALLELISM, (p) => localState(p, cache));
  const toDownload = planned.filter((_, i) => states[i] === 'download');
  const downloadedBytes = toDownload.reduce((sum, p) => sum + p.entry.size, 0);
  const progress = options.progress ?? NO_PROGRESS;
  progress.setTotal(downloadedBytes);
  let warned = false;
  const addToCache = async (p: PlannedFile) => {
    try {
      await cache?.add(p.entry.hash, p.local);
    } catch (err) {
      if (!warned) options.onWarning?.(`could not add to the cache in ${cache!.dir}: ${(err as Error).message}`);
      warned = true;
    }
  };
  const { smallFileBytes, batchBytes, inFlight } = options;
  // Each file is copied into the cache as soon as it is written, which reads it back: through the
  // page cache that read costs no disk I/O, past it (O_DIRECT) it would read the whole file again.
  const directIo = cache === undefined && options.directIo !== false;
  const tuning = { smallFileBytes, batchBytes, inFlight, directIo };
  await downloadEntries({ ...tuning, client, repo: pin.repo, commit, progress, onWritten: addToCache }, toDownload);
  if (options.delete) removedFiles += await removeExtras(extras.filter((e) => !e.blocking), removedFiles);
  return {
    repo: pin.repo,
    branch: pin.branch,
    commit,
    resolvedFromBranch,
    output,
    files: planned.length,
    bytes: planned.reduce((sum, p) => sum + p.entry.size, 0),
    downloadedFiles: toDownload.length,
    downloadedBytes,
    cachedFiles: states.filter((s) => s === 'cached').length,
    upToDateFiles: states.filter((s) => s === 'up-to-date').length,
    extraFiles,
    removedFiles,
  };
}

/**
 * `--delete` into a directory that holds a git repository (`-o .` in the code repo the pin lives
 * in) or the content cache would remove those with the data's leftovers: refused, before anything
 * is removed.
 */
async function refuseToDeleteOwnFiles(extras: readonly Extra[], cacheDir: string | undefined): Promise<void> {
  // Compared with links resolved: `-o data` may reach the cache through a linked directory.
  const real = async (path: string) => join(await realpath(dirname(path)).catch(() => dirname(path)), basename(path));
  const cache = cacheDir === undefined ? undefined : await real(resolve(cacheDir));
  for (const extra of extras) {
    const full = await real(resolve(extra.local));
    let why: string | undefined;
    if (extra.holdsGit) why = basename(full) === '.git' ? 'it is a git repository' : 'it holds a git repository';
    else if (cache === full) why = 'it is the content cache';
    else if (cache !== undefined && cache.startsWith(`${full}${sep}`)) why = 'it holds the content cache';
    else if (cache !== undefined && full.startsWith(`${cache}${sep}`)) why = 'it is in the content cache';
    if (why) throw fail('E_BAD_REQUEST', `refusing to delete ${extra.local}: ${why}, not data the commit dropped; pull into a directory of its own`, { local: extra.local });
  }
}

function required(value: string | undefined, name: string): string {
  if (!value) throw fail('E_BAD_REQUEST', `pull needs a pin: give ${name} (or the pin itself)`);
  return value;
}

/**
 * The commit to fetch: the pin's own, or (only when allowed, and only for a pin that names no
 * commit) its branch's head right now. A pin whose commit is not a full id is refused even with
 * --allow-branch: falling back to the branch would fetch other data than the pin names.
 */
async function pinnedCommit(client: DatactlClient, pin: PinEntry, options: PullOptions): Promise<{ commit: string; resolvedFromBranch: boolean }> {
  if (pinsCommit(pin)) return { commit: pin.commit, resolvedFromBranch: false };
  // A full id typed in capitals names one commit all the same.
  if (typeof pin.commit === 'string' && /^[0-9A-Fa-f]{64}$/.test(pin.commit)) return { commit: pin.commit.toLowerCase(), resolvedFromBranch: false };
  const what = options.key ? `pin ${JSON.stringify(options.key)}${options.file ? ` in ${options.file}` : ''}` : 'the pin';
  if (pin.commit !== null) {
    throw fail('E_BAD_REQUEST', `${what} names ${JSON.stringify(pin.commit)}, not a 64-hex commit id: a pin must name its commit in full (as "datactl pin" writes it), not a prefix or a ref`, {
      repo: pin.repo, branch: pin.branch, commit: pin.commit,
    });
  }
  const names = 'names no commit';
  if (!options.allowBranch) {
    const hint = pin.branch ? `; pin a commit with "datactl pin ${pin.repo}@${pin.branch}", or pass --allow-branch to use the branch head as it is now` : '';
    throw fail('E_BAD_REQUEST', `${what} ${names}: a pull must be reproducible${hint}`, { repo: pin.repo, branch: pin.branch, commit: pin.commit });
  }
  if (!pin.branch) throw fail('E_BAD_REQUEST', `${what} ${names} and no branch`, { repo: pin.repo });
  const head = await client.getCommit(pin.repo, pin.branch);
  return { commit: head.id, resolvedFromBranch: true };
}

/**
 * The files under each requested path (deduplicated, in request then tree order); the requested
 * paths that are directories (scopes: where a local file the commit lacks is an extra), and those
 * that are files (points: where a local directory would be).
 */
async function collectEntries(
  client: DatactlClient, repo: string, commit: string, paths: readonly string[],
): Promise<{ entries: FileEntry[]; scopes: RepoPath[]; points: RepoPath[] }> {
  const found = new Map<string, FileEntry>();
  const scopes: RepoPath[] = [];
  const points: RepoPath[] = [];
  for (const raw of paths) {
    const path = parseRepoPath(raw);
    if (path !== '/') {
      const { entry } = await client.stat(repo, commit, path);
      if (entry.type === 'file') {
        if (!found.has(entry.path)) found.set(entry.path, entry);
        points.push(path);
        continue;
      }
    }
    scopes.push(path);
    for await (const entry of walkRemote(client, repo, commit, path)) if (!found.has(entry.path)) found.set(entry.path, entry);
  }
  return { entries: [...found.values()], scopes, points };
}

async function localState(p: PlannedFile, cache: ContentCache | undefined): Promise<LocalState> {
  const info = await stat(p.local).catch(() => undefined);
  if (info?.isFile() && info.size === p.entry.size && (await hashFile(p.local)).hash === p.entry.hash) return 'up-to-date';
  if (cache && (await cache.restore(p.entry, p.local)) === 'restored') return 'cached';
  return 'download';
}

/** `fn` over `items` with at most `limit` running at once; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
