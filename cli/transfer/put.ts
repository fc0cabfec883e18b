/**
 * putFiles: local files -> one atomic commit. Each file is streamed through the content-defined
 * chunker (never held whole), new chunks are uploaded in batches (ChunkUploader), and one POST
 * /commits records every file's manifest. Small files are read whole, several at a time, because
 * open/read/close dominates when there are many of them.
 */
import { createReadStream, readFile as readFileCallback } from 'node:fs';
import { promisify } from 'node:util';
import { DEFAULT_CHUNKER_PARAMS, FileChunker, chunkerId, type Chunk, type ChunkerParams } from '../../src/chunking/index.js';
import { parseBranchName, parseRepoName, parseRepoPath, type RepoPath } from '../../src/types.js';
import type { CommitChange, Manifest } from '../api-types.js';
import type { DatactlClient } from '../client.js';
import { defaultAuthor } from '../defaults.js';
import { NO_PROGRESS, type ProgressSink } from '../progress.js';
import { planSources, STDIN, type FileJob } from './sources.js';
import { ChunkUploader, type UploaderOptions } from './uploader.js';

export interface PutFilesOptions {
  repo: string;
  /** Default `main`; created by the commit when missing. */
  branch?: string;
  /** Destination repo path (see destinationFor); a trailing `/` marks a directory. */
  path?: string;
  /** Local files and directories; `-` reads stdin. */
  sources: readonly string[];
  recursive?: boolean;
  message?: string;
  /** Default: $DATACTL_AUTHOR, else the OS user name. */
  author?: string;
  /** Expected branch head (compare-and-swap); `null` expects an empty branch. */
  parent?: string | null;
  metadata?: Record<string, unknown>;
  /** Where `-` reads from (default process.stdin). */
  stdin?: AsyncIterable<Uint8Array>;
  chunker?: ChunkerParams;
  upload?: UploaderOptions;
  progress?: ProgressSink;
  /** Told about skipped local entries (symlinks to directories, sockets...). */
  onSkip?: (local: string, why: string) => void;
}

export interface PutFilesResult {
  repo: string;
  branch: string;
  /** The new commit's id, or the unchanged head when nothing changed (null on an empty branch). */
  commit: string | null;
  created: boolean;
  files: number;
  bytes: number;
  chunks: number;
  uploadedChunks: number;
  uploadedBytes: number;
}

/** Files up to this size are read whole, in parallel. */
export const SMALL_FILE_BYTES = 64 * 1024;
const READ_AHEAD = 16;
const READ_BUFFER_BYTES = 4 * 1024 * 1024;
// The callback readFile is markedly cheaper per call than fs/promises' FileHandle-based one.
const readFile = promisify(readFileCallback);

export { defaultAuthor };

export async function putFiles(client: DatactlClient, options: PutFilesOptions): Promise<PutFilesResult> {
  const repo = parseRepoName(options.repo);
  const branch = parseBranchName(options.branch ?? 'main');
  const path = options.path === undefined ? undefined : parseRepoPath(options.path);
  const isDir = path === '/' || (options.path?.endsWith('/') ?? false);
  const jobs = await planSources({
    dest: { path, isDir },
    sources: options.sources,
    recursive: options.recursive ?? false,
    ...(options.onSkip ? { onSkip: options.onSkip } : {}),
  });
  const progress = options.progress ?? NO_PROGRESS;
  progress.setTotal(jobs.some((j) => j.size === undefined) ? undefined : jobs.reduce((n, j) => n + (j.size ?? 0), 0));

  const uploader = new ChunkUploader(client, repo, options.upload);
  const params = options.chunker ?? DEFAULT_CHUNKER_PARAMS;
  const changes: CommitChange[] = [];
  let bytes = 0;
  try {
    for await (const { job, data } of readAhead(jobs)) {
      const source = data ? [data] : openSource(job, options.stdin);
      const manifest = await chunkSource(source, params, uploader, progress);
      bytes += manifest.size;
      changes.push({ op: 'put', path: job.dest, manifest });
    }
    await uploader.finish();
  } catch (err) {
    await uploader.settle();
    throw err;
  }

  const base = { repo, branch, files: jobs.length, bytes, ...pickStats(uploader) };
  if (changes.length === 0) return { ...base, commit: null, created: false };
  const result = await client.commit(repo, {
    branch,
    message: options.message ?? defaultMessage(jobs, path),
    author: options.author ?? defaultAuthor(),
    ...(options.parent !== undefined ? { parent: options.parent } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
    changes,
  });
  return { ...base, commit: result.commit?.id ?? null, created: result.created };
}

function pickStats(uploader: ChunkUploader) {
  const { chunks, uploadedChunks, uploadedBytes } = uploader.stats;
  return { chunks, uploadedChunks, uploadedBytes };
}

function defaultMessage(jobs: readonly FileJob[], dest: RepoPath | undefined): string {
  if (jobs.length === 1) return `put ${jobs[0]!.dest}`;
  return `put ${jobs.length} files to ${dest ?? '/'}`;
}

/** Chunk one source, hand its chunks to the uploader, and return its manifest. */
async function chunkSource(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  params: ChunkerParams,
  uploader: ChunkUploader,
  progress: ProgressSink,
): Promise<Manifest> {
  const chunker = new FileChunker(params);
  const refs: [string, number][] = [];
  // Sources yield fresh buffers (fs and pipe reads allocate per read), so a chunk lying inside the
  // pushed buffer can be kept by reference; one assembled across pushes lives in the chunker's
  // reusable buffer and must be copied.
  const take = async (chunks: Chunk[], pushed?: Uint8Array) => {
    for (const c of chunks) {
      refs.push([c.hash, c.size]);
      await uploader.add(c.hash, c.bytes, pushed !== undefined && c.bytes.buffer === pushed.buffer);
    }
  };
  for await (const data of source) {
    await take(chunker.push(data), data);
    progress.advance(data.byteLength);
  }
  await take(chunker.finish());
  return { size: chunker.size, hash: chunker.contentHash(), chunker: chunkerId(params), chunks: refs };
}

function openSource(job: FileJob, stdin: AsyncIterable<Uint8Array> | undefined): AsyncIterable<Uint8Array> {
  if (job.local === STDIN) return stdin ?? (process.stdin as AsyncIterable<Uint8Array>);
  return createReadStream(job.local, { highWaterMark: READ_BUFFER_BYTES });
}

const isSmall = (job: FileJob) => job.local !== STDIN && job.size !== undefined && job.size <= SMALL_FILE_BYTES;

/**
 * Yield the jobs in order; small files come with their bytes, read up to READ_AHEAD jobs ahead.
 * Reads started ahead get a no-op catch so an abandoned one cannot become an unhandled rejection.
 */
async function* readAhead(jobs: readonly FileJob[]): AsyncGenerator<{ job: FileJob; data: Buffer | undefined }> {
  const pending = new Map<number, Promise<Buffer>>();
  let next = 0;
  for (let i = 0; i < jobs.length; i++) {
    for (; next < jobs.length && next <= i + READ_AHEAD; next++) {
      if (!isSmall(jobs[next]!)) continue;
      const read = readFile(jobs[next]!.local);
      read.catch(() => undefined);
      pending.set(next, read);
    }
    const read = pending.get(i);
    pending.delete(i);
    yield { job: jobs[i]!, data: read ? await read : undefined };
  }
}
