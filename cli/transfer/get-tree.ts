/**
 * Recursive download of a directory at a pinned commit. The tree is paged with manifests, so
 * every file arrives with its chunk list. Small files are fetched in batches through
 * `chunks/read` (a few requests in flight, each batch's bytes bounded), then verified and written
 * by worker threads (write-tasks.ts); large files take the streaming single-file path.
 * `downloadEntries` is the same machinery for any list of files and local paths (`pull` uses it).
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fail } from '../../src/errors.js';
import type { RepoPath } from '../../src/types.js';
import type { FileEntry } from '../api-types.js';
import { paginate, type DatactlClient } from '../client.js';
import type { ProgressSink } from '../progress.js';
import { downloadFile, manifestChunks } from './download.js';
import { defaultWorkerCount, FilePool } from './file-pool.js';
import { HASH_CHARS } from './hash-runs.js';
import { localPaths } from './local-paths.js';
import { TaskPool } from './pool.js';
import { Resumes } from './resume.js';
import { openFileSink } from './sinks.js';
import type { WriteBatch, WriteBatchResult } from './write-tasks.js';

export interface TreeDownloadTuning {
  /** Files below this size are fetched in batches (default 1 MiB). */
  smallFileBytes?: number;
  /**
   * Bytes per batch request (default 4 MiB: on 100k small files, 16 MiB batches peaked at 370 MB
   * of client RSS, 4 MiB at ~200 MB, and finished no later).
   */
  batchBytes?: number;
  /** Batch requests in flight (default 3). */
  inFlight?: number;
  /**
   * fsync every file (and its directory) before it is renamed into place. Off by default, as for
   * cp, rsync, git checkout, restic and borg restores: files are verified before the rename either
   * way, and a crash costs a re-download; on the disks measured an fsync of 1 GB took 1-2 s.
   */
  fsync?: boolean;
  /**
   * Write files from 64 MiB with O_DIRECT, past the page cache, where the filesystem takes it
   * (default true; sinks.ts says why). Smaller files are always written through the cache.
   */
  directIo?: boolean;
}

/** Download files of one commit to chosen local paths (used by tree downloads and `pull`). */
export interface EntryDownload extends TreeDownloadTuning {
  client: DatactlClient;
  repo: string;
  commit: string;
  progress: ProgressSink;
  /** Called after each file is verified and in place. */
  onWritten?: (file: PlannedFile) => Promise<void>;
}

export interface TreeDownload extends EntryDownload {
  root: RepoPath;
  outDir: string;
}

/** The server's limit on hashes per chunks/read request. */
const MAX_READ_HASHES = 10000;

/** A remote file (with its chunk list) and where it goes. */
export interface PlannedFile {
  entry: FileEntry;
  local: string;
}
type Planned = PlannedFile;

export async function downloadTree(job: TreeDownload): Promise<{ files: number; bytes: number }> {
  // The directory exists afterwards even when the tree holds no file, as "wrote 0 files to DIR" says.
  await mkdir(job.outDir, { recursive: true });
  return downloadEntries(job, planTree(job));
}

async function* planTree(job: TreeDownload): AsyncGenerator<Planned[]> {
  const localPath = localPaths(job.outDir, job.root);
  for await (const files of walkRemotePages(job.client, job.repo, job.commit, job.root)) {
    yield files.map((entry) => ({ entry, local: localPath(entry.path) }));
  }
}

/**
 * Download every planned file: small ones in verified batches, large ones streamed. `planned` is
 * a list, or groups of files as they are listed (a step of an async generator per file was ~0.1 s
 * of a 100k-file get's CPU, through the three that listed, planned and consumed each file).
 */
export async function downloadEntries(job: EntryDownload, planned: AsyncIterable<readonly Planned[]> | readonly Planned[]): Promise<{ files: number; bytes: number }> {
  const small = job.smallFileBytes ?? 1024 * 1024;
  const pool = new TaskPool(job.inFlight ?? 3);
  let files: FilePool | undefined;
  // Workers only pay off past one batch: a get of a handful of files writes them inline.
  const writer = (more: boolean) => (files ??= new FilePool(more ? defaultWorkerCount() : 0));
  const made = new Set<string>();
  let batch = new Batch(job.batchBytes ?? 4 * 1024 * 1024);
  // Batch buffers the writers gave back: fresh 4 MiB buffers per batch were freed only when the
  // garbage collector got to them, and piled up meanwhile.
  const spare: ArrayBuffer[] = [];
  let count = 0;
  let bytes = 0;
  try {
    for await (const group of Symbol.asyncIterator in planned ? planned : [planned]) {
      for (const file of group) {
        const { entry, local } = file;
        const dir = dirname(local);
        if (!made.has(dir)) await ensureDir(dir, made); // not an await per file
        count++;
        bytes += entry.size;
        if (entry.size >= small || !Batch.canHold(file)) {
          await downloadFile(job.client, job.repo, job.commit, entry, await openFileSink(local, { fsync: job.fsync ?? false, size: entry.size, directIo: job.directIo ?? true }), job.progress);
          await job.onWritten?.(file);
          continue;
        }
        if (!batch.fits(file)) {
          const full = batch;
          batch = new Batch(full.limitBytes);
          const to = writer(true);
          await pool.run(() => fetchBatch(job, full, to, spare));
        }
        batch.add(file);
      }
    }
    if (batch.files.length > 0) {
      const to = writer(false);
      await pool.run(() => fetchBatch(job, batch, to, spare));
    }
    await pool.drain();
  } catch (err) {
    await pool.settle();
    throw err;
  } finally {
    await files?.close();
  }
  return { files: count, bytes };
}

async function ensureDir(dir: string, made: Set<string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  made.add(dir);
}

/** Every file below `dir` (with chunk lists), depth first, in the server's (name) order. */
export async function* walkRemote(client: DatactlClient, repo: string, commit: string, dir: string): AsyncGenerator<FileEntry> {
  for await (const files of walkRemotePages(client, repo, commit, dir)) yield* files;
}

/** walkRemote's files in groups: the files of a listed page up to its next directory. */
export async function* walkRemotePages(client: DatactlClient, repo: string, commit: string, dir: string): AsyncGenerator<FileEntry[]> {
  const pages = paginate(
    (page) => client.listTree(repo, commit, { ...page, path: dir, manifests: true }),
    (listing) => [listing.entries], // one item per page: its entries
  );
  for await (const entries of pages) {
    let files: FileEntry[] = [];
    for (const entry of entries) {
      if (entry.type !== 'dir') {
        files.push(entry);
        continue;
      }
      if (files.length > 0) yield files;
      files = [];
      yield* walkRemotePages(client, repo, commit, entry.path);
    }
    if (files.length > 0) yield files;
  }
}

/** Small files whose distinct chunks are fetched with one chunks/read request. */
class Batch {
  readonly files: Planned[] = [];
  readonly hashes = new Set<string>();
  bytes = 0;

  constructor(readonly limitBytes: number) {}

  static canHold(p: Planned): boolean {
    return manifestChunks(p.entry).length <= MAX_READ_HASHES;
  }

  fits(p: Planned): boolean {
    if (this.files.length === 0) return true;
    const fresh = manifestChunks(p.entry).filter(([h]) => !this.hashes.has(h)).length;
    return this.bytes + p.entry.size <= this.limitBytes && this.hashes.size + fresh <= MAX_READ_HASHES;
  }

  add(p: Planned): void {
    this.files.push(p);
    this.bytes += p.entry.size;
    for (const [h] of manifestChunks(p.entry)) this.hashes.add(h);
  }
}

async function fetchBatch(job: EntryDownload, batch: Batch, files: FilePool, spare: ArrayBuffer[]): Promise<void> {
  const hashes = [...batch.hashes];
  const data = new Map<string, Uint8Array>();
  // A cut answer is resumed with the chunks not yet received (resume.ts).
  for (const resumes = new Resumes(); data.size < hashes.length; ) {
    const before = data.size;
    try {
      // Unverified frames: the worker re-hashes every chunk against the manifest.
      for await (const frames of job.client.readChunkBatches(job.repo, before === 0 ? hashes : hashes.slice(before))) {
        for (const frame of frames) {
          const expected = hashes[data.size];
          if (frame.hash !== expected) {
            throw fail('E_CORRUPT_OBJECT', `server sent chunk ${frame.hash} where ${expected ?? 'nothing'} was expected`);
          }
          data.set(frame.hash, frame.bytes);
        }
      }
      break;
    } catch (err) {
      await resumes.after(err, data.size > before);
    }
  }
  if (data.size !== hashes.length) {
    throw fail('E_CORRUPT_OBJECT', `server sent ${data.size} of ${hashes.length} requested chunks`);
  }
  const write = assemble(batch, data, job.fsync ?? false, spare);
  data.clear();
  const result = await files.writeSmall(write);
  if (result.buffer && result.buffer.byteLength === batch.limitBytes && spare.length < 4) spare.push(result.buffer);
  for (let i = 0; i < result.written; i++) await job.onWritten?.(batch.files[i]!);
  let written = 0;
  for (let i = 0; i < result.written; i++) written += batch.files[i]!.entry.size;
  job.progress.advance(written);
  if (result.error) throw writeError(batch.files[result.error.index]!, result.error);
}

/**
 * Lay the batch's files out back to back in one transferable buffer, with their expected hashes,
 * for the worker that verifies and writes them (write-tasks.ts). Small files make this copy cheap
 * next to the syscalls it saves; a chunk shared by several files is copied into each.
 */
function assemble(batch: Batch, data: Map<string, Uint8Array>, fsync: boolean, spare: ArrayBuffer[]): WriteBatch {
  const buffer = batch.bytes <= batch.limitBytes ? (spare.pop() ?? new ArrayBuffer(batch.limitBytes)) : new ArrayBuffer(batch.bytes);
  const bytes = new Uint8Array(buffer);
  const count = batch.files.length;
  const paths = new Array<string>(count);
  const hashes = new Array<string>(count);
  const files = new Float64Array(2 * count);
  const chunkHashes: string[] = [];
  const chunkSizes: number[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const { entry, local } = batch.files[i]!;
    const chunks = manifestChunks(entry);
    // Hashes travel back to back (hash-runs.ts); chunk hashes are those of frames received.
    if (entry.hash.length !== HASH_CHARS) throw fail('E_CORRUPT_OBJECT', `the server listed ${entry.path} with hash ${JSON.stringify(entry.hash)}`, { path: entry.path });
    paths[i] = local;
    hashes[i] = entry.hash;
    files[2 * i] = entry.size;
    files[2 * i + 1] = chunks.length;
    let size = 0;
    for (const [hash, length] of chunks) {
      const part = data.get(hash)!;
      // Sizes come from the manifest; a chunk that disagrees is caught by the worker's hash check,
      // but must not overrun this file's slot in the buffer.
      if (part.byteLength !== length || size + length > entry.size) {
        throw fail('E_CORRUPT_OBJECT', `integrity check failed for ${entry.path}: chunk ${hash} is ${part.byteLength} bytes, the manifest says ${length}`, { path: entry.path });
      }
      bytes.set(part, at + size);
      size += length;
      chunkHashes.push(hash);
      chunkSizes.push(length);
    }
    at += entry.size;
  }
  return { buffer, paths: paths.join('\0'), files, hashes: hashes.join(''), chunkHashes: chunkHashes.join(''), chunkSizes: Float64Array.from(chunkSizes), fsync };
}

function writeError(p: Planned, error: NonNullable<WriteBatchResult['error']>): Error {
  if (error.code === 'corrupt') {
    return fail('E_CORRUPT_OBJECT', `integrity check failed for ${p.entry.path}: ${error.message}`, { path: p.entry.path, ...(error.chunk ? { chunk: error.chunk } : {}) });
  }
  return Object.assign(new Error(error.message), { code: error.code });
}
