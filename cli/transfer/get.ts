/**
 * getFiles: fetch a file (to a path or a stream) or, with `recursive`, a whole directory, every
 * byte verified against the manifest. Reads are pinned to the commit the first lookup resolved,
 * so a branch moving mid-download cannot mix two versions.
 */
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DatactlError, fail } from '../../src/errors.js';
import { parseRepoName, parseRepoPath, type RepoPath } from '../../src/types.js';
import type { Entry, StatResult } from '../api-types.js';
import type { DatactlClient } from '../client.js';
import { NO_PROGRESS, type ProgressSink } from '../progress.js';
import { parseRef } from '../refspec.js';
import { downloadTree, type TreeDownloadTuning } from './get-tree.js';
import { downloadFile } from './download.js';
import { openFileSink, streamSink } from './sinks.js';
import { explainDamage } from './damage.js';

export interface GetFilesOptions extends TreeDownloadTuning {
  repo: string;
  /** Branch, commit id or prefix, with optional `~N`/`^` (default `main`). */
  ref?: string;
  path: string;
  /**
   * Local target. A file goes to this path (or into it, if it is an existing directory); a
   * directory's contents go under it. Omitted: a file streams to `stdout`; a directory goes
   * to `./<dir name>` (`./<repo>` for `/`).
   */
  output?: string;
  stdout?: NodeJS.WritableStream;
  recursive?: boolean;
  progress?: ProgressSink;
}

export interface GetFilesResult {
  repo: string;
  ref: string;
  commit: string;
  path: string;
  /** The local file or directory written; null when streamed to stdout. */
  output: string | null;
  files: number;
  bytes: number;
}

export async function getFiles(client: DatactlClient, options: GetFilesOptions): Promise<GetFilesResult> {
  try {
    return await getFilesUnchecked(client, options);
  } catch (err) {
    throw await explainDamage(client, options.repo, err);
  }
}

async function getFilesUnchecked(client: DatactlClient, options: GetFilesOptions): Promise<GetFilesResult> {
  const repo = parseRepoName(options.repo);
  const ref = parseRef(options.ref ?? 'main');
  const path = parseRepoPath(options.path);
  const progress = options.progress ?? NO_PROGRESS;
  const { commit, entry } = await statPath(client, repo, ref, path);
  const base = { repo, ref, commit, path };

  if (entry.type === 'file') {
    const target = options.output === undefined ? undefined : await fileTarget(options.output, entry.name);
    const sink = target ? await openFileSink(target, { fsync: options.fsync ?? false, size: entry.size, directIo: options.directIo ?? true }) : streamSink(options.stdout ?? process.stdout);
    progress.setTotal(entry.size);
    await downloadFile(client, repo, commit, entry, sink, progress);
    return { ...base, output: target ?? null, files: 1, bytes: entry.size };
  }
  if (!options.recursive) {
    throw fail('E_NOT_A_FILE', `${path} is a directory; use -r to get it recursively`, { path });
  }
  const outDir = options.output ?? (path === '/' ? repo : basename(path));
  progress.setTotal(Number.isFinite(entry.size) ? entry.size : undefined);
  const stats = await downloadTree({ ...options, client, repo, commit, root: path, outDir, progress });
  return { ...base, output: outDir, ...stats };
}

/** Stat the path; the root may not be stat-able on every server, so `/` falls back to a listing. */
async function statPath(client: DatactlClient, repo: string, ref: string, path: RepoPath): Promise<StatResult> {
  try {
    return await client.stat(repo, ref, path);
  } catch (err) {
    const rootUnsupported = err instanceof DatactlError && ['E_PATH_NOT_FOUND', 'E_INVALID_PATH', 'E_BAD_REQUEST'].includes(err.code);
    if (path !== '/' || !rootUnsupported) throw err;
    const page = await client.listTree(repo, ref, { limit: 1 });
    const root: Entry = { name: '', path: '/', type: 'dir', size: Number.NaN };
    return { commit: page.commit, entry: root };
  }
}

/** `-o` naming an existing directory (or ending in `/`) means "put it inside". */
async function fileTarget(output: string, name: string): Promise<string> {
  const info = await stat(output).catch(() => undefined);
  const target = info?.isDirectory() || /[/\\]$/.test(output) ? join(output, name) : output;
  await mkdir(dirname(target), { recursive: true });
  return target;
}
