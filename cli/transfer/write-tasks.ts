/**
 * The file work of a download, as a plain synchronous function for the worker threads of
 * FilePool: verify a batch of small files against their manifests and write them (see
 * writeSmallFiles for how). Synchronous fs calls for the reason file-tasks.ts
 * gives: a 100k-file get spent most of its time dispatching async open/write/close/rename calls
 * (4 thread-pool round trips per file), not in the syscalls themselves.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { blake3Hex, EMPTY_HASH } from '../../src/hash/blake3.js';
import { hashAt } from './hash-runs.js';

/**
 * Small files to write, their bytes back to back in `buffer` in file order, with what each is
 * checked against. Flat strings and number arrays rather than an array per field, or an object
 * per file: sent to a worker, a batch of ~1600 files took 0.5-0.6 ms to serialize and deserialize
 * with a string per path and hash, 0.15 ms flat (v8.serialize, measured apart).
 */
export interface WriteBatch {
  buffer: ArrayBuffer;
  /** Target paths, joined by NUL (which no path contains). */
  paths: string;
  /** Per file: size, then chunk count. */
  files: Float64Array;
  /** Whole-file hashes, 64 hex digits each, back to back. */
  hashes: string;
  /** Every file's chunk hashes in file order, 64 hex digits each, back to back... */
  chunkHashes: string;
  /** ...and their sizes. */
  chunkSizes: Float64Array;
  /** fsync each file before its rename and each directory after (see TreeDownloadTuning.fsync). */
  fsync: boolean;
}

export interface WriteBatchResult {
  /** Files in place, from the first; on error the rest were not written. */
  written: number;
  /** The batch's buffer, handed back (from a worker: transferred) to be filled again. */
  buffer?: ArrayBuffer;
  error?: {
    /** Index of the file that failed. */
    index: number;
    /** 'corrupt' when the bytes do not match the manifest, else the errno code if there is one. */
    code: string | undefined;
    message: string;
    /** The chunk whose bytes did not match its hash, when that was the problem. */
    chunk?: string;
  };
}

/**
 * Verify then write every file of the batch, in order, stopping at the first failure; files before
 * it stay in place, as with any interrupted download. A file whose bytes do not match its manifest
 * is never opened. A new file is created in place (O_EXCL, so it is ours to remove if the write
 * fails), as git checkout and restic restore do: a temp file and a rename per file cost a quarter
 * of a 100k-file download here, and only protect against a kill inside one small write. A file that
 * already exists is replaced atomically through a temp file and a rename, so a reader of the old
 * version never sees a partial new one.
 */
export function writeSmallFiles(batch: WriteBatch): WriteBatchResult {
  const bytes = new Uint8Array(batch.buffer);
  // One random token per batch, a counter per file: a unique temp name without randomBytes per file.
  const token = randomBytes(6).toString('hex');
  const dirs = new Set<string>();
  const files = batch.files.length / 2;
  const paths = files === 0 ? [] : batch.paths.split('\0'); // ''.split gives one empty path
  if (paths.length !== files) throw new Error(`a write batch of ${files} files carried ${paths.length} paths`);
  let at = 0;
  let chunk = 0;
  for (let i = 0; i < files; i++) {
    const path = paths[i]!;
    const size = batch.files[2 * i]!;
    const data = bytes.subarray(at, at + size);
    const count = batch.files[2 * i + 1]!;
    const problem = verify(data, hashAt(batch.hashes, i), batch.chunkHashes, batch.chunkSizes, chunk, count);
    if (problem) return { written: i, error: { index: i, code: 'corrupt', ...problem } };
    at += size;
    chunk += count;
    try {
      if (!createWhole(path, data, batch.fsync)) replaceWhole(path, `${dirname(path)}/.${basename(path)}.datactl-tmp-${token}-${i}`, data, batch.fsync);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      return { written: i, error: { index: i, code: e.code, message: e.message ?? String(err) } };
    }
    if (batch.fsync) dirs.add(dirname(path));
  }
  for (const dir of dirs) syncDir(dir);
  return { written: files };
}

/** Why `data` does not match its manifest (and which chunk, if one failed its hash), or undefined when it does. */
function verify(data: Uint8Array, hash: string, chunkHashes: string, chunkSizes: Float64Array, first: number, count: number): { message: string; chunk?: string } | undefined {
  if (count === 0) return data.byteLength === 0 && hash === EMPTY_HASH ? undefined : { message: `an empty chunk list cannot hash to ${hash}` };
  let offset = 0;
  for (let c = first; c < first + count; c++) {
    const size = chunkSizes[c]!;
    if (offset + size > data.byteLength) return { message: `chunks add up to more than the file's ${data.byteLength} bytes` };
    const actual = blake3Hex(data.subarray(offset, offset + size));
    const expected = hashAt(chunkHashes, c);
    if (actual !== expected) return { message: `chunk ${c - first} hashes to ${actual}, expected ${expected}`, chunk: expected };
    offset += size;
  }
  if (offset !== data.byteLength) return { message: `got ${offset} of ${data.byteLength} bytes` };
  // A one-chunk file's content hash is its chunk's hash, just verified: no second pass.
  const actual = count === 1 ? hashAt(chunkHashes, first) : blake3Hex(data);
  return actual === hash ? undefined : { message: `content hashes to ${actual}, expected ${hash}` };
}

/** Create `path` with `data`; false if it already exists. A failed write leaves no file behind. */
function createWhole(path: string, data: Uint8Array, fsync: boolean): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  fill(fd, path, data, fsync);
  return true;
}

/** Write `data` to `temp` and rename it over `path`. */
function replaceWhole(path: string, temp: string, data: Uint8Array, fsync: boolean): void {
  fill(openSync(temp, 'wx'), temp, data, fsync);
  try {
    renameSync(temp, path);
  } catch (err) {
    removeQuietly(temp);
    throw err;
  }
}

/** Write all of `data` to the new file `fd` (named `path`) and close it; on failure remove it. */
function fill(fd: number, path: string, data: Uint8Array, fsync: boolean): void {
  try {
    for (let offset = 0; offset < data.byteLength; ) offset += writeSync(fd, data, offset, data.byteLength - offset);
    if (fsync) fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    removeQuietly(path);
    throw err;
  }
  closeSync(fd);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** The synchronous twin of sinks.ts's syncDir (this runs in a worker, where async calls cost more). */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // EINVAL/EISDIR on some file systems and platforms: nothing more we can do
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
