/**
 * The CPU- and syscall-heavy parts of a put, as plain synchronous functions: read and hash a
 * batch of small files, chunk one large file (listing and stat-ing are in scan-tasks.ts). They run inside worker threads
 * (file-worker.ts) so that reading, chunking and hashing overlap with uploading on the main thread,
 * and they use synchronous fs calls on purpose: on the machines we measured, an async fs call costs
 * 20-70 us of event-loop and thread-pool overhead, several times the syscall itself (100k small
 * files: open/read/fstat/close dispatch alone took 7 s of the 15 s a put spent). They can also run
 * inline on the calling thread (FilePool with 0 workers), with identical results.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { FileChunker, type Chunk, type ChunkerParams } from '../../src/chunking/index.js';
import { blake3Hex, EMPTY_HASH } from '../../src/hash/blake3.js';
import type { ChunkHash } from '../../src/types.js';
import { errnoText } from './errno.js';

export interface SmallFileRequest {
  path: string;
  /** Size at stat time; the bytes actually read are what count. */
  size: number;
}

export interface ReadFileResult {
  /** Where the file's bytes start in the batch's buffer (or in `own` when it had to be read apart). */
  offset: number;
  size: number;
  hash: ChunkHash;
  /** Chunk boundaries when the file is more than one chunk: [hash, size] in file order. */
  chunks?: Array<[ChunkHash, number]>;
  /** A file that grew after it was stat'ed is read separately into its own buffer. */
  own?: ArrayBuffer;
  error?: string;
}

export interface ReadBatchResult {
  /** Every file's bytes, back to back (transferable). */
  buffer: ArrayBuffer;
  files: ReadFileResult[];
}

/**
 * Read whole small files back to back into one buffer and hash them. A file of at most minSize
 * bytes is exactly one chunk (the chunker never cuts earlier), so its chunk hash is its file hash;
 * a larger one goes through the chunker. open + read + close per file: the size is known from the
 * stat, and asking for one byte more tells a file that grew since (then it is re-read apart).
 */
export function readSmallFiles(files: readonly SmallFileRequest[], params: ChunkerParams): ReadBatchResult {
  let total = 1;
  for (const f of files) total += f.size;
  // Into a recycled buffer of the smallest size that holds the batch (see recycleBlock).
  const arena =
    total <= BATCH_BYTES
      ? (spareBatches.pop() ?? new Uint8Array(BATCH_BYTES))
      : total <= BLOCK_BYTES
        ? (spareBlocks.pop() ?? new Uint8Array(BLOCK_BYTES))
        : new Uint8Array(total);
  const buffer = arena.buffer as ArrayBuffer;
  const results: ReadFileResult[] = [];
  let at = 0;
  for (const f of files) {
    let fd: number;
    try {
      fd = openSync(f.path, 'r');
    } catch (err) {
      results.push({ offset: at, size: 0, hash: EMPTY_HASH, error: errnoText(err) });
      continue;
    }
    try {
      const n = readSmall(fd, arena, at, f.size);
      if (n <= f.size) {
        const bytes = arena.subarray(at, at + n);
        results.push({ offset: at, ...hashWhole(bytes, params) });
        at += n;
      } else {
        const own = readFileSync(fd);
        const copy = new Uint8Array(own.byteLength);
        copy.set(own);
        results.push({ offset: 0, own: copy.buffer, ...hashWhole(copy, params) });
      }
    } catch (err) {
      results.push({ offset: at, size: 0, hash: EMPTY_HASH, error: errnoText(err) });
    } finally {
      closeSync(fd);
    }
  }
  return { buffer, files: results };
}

/**
 * Read a file stat'ed at `size` bytes, asking for one byte more to see whether it grew. A regular
 * file's read comes back short only at its end, so a first read of exactly `size` bytes is the
 * whole file: reading on to see 0 bytes was a second syscall per file (strace of a 5,000-file put:
 * 10,012 preads) that only confirmed it. Anything else reads on to the end.
 */
function readSmall(fd: number, into: Uint8Array, offset: number, size: number): number {
  const first = readSync(fd, into, offset, size + 1, 0);
  if (first === 0 || first >= size) return first;
  return first + readFully(fd, into, offset + first, size + 1 - first, first);
}

function readFully(fd: number, into: Uint8Array, offset: number, length: number, position = 0): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, into, offset + got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

function hashWhole(bytes: Uint8Array, params: ChunkerParams): Pick<ReadFileResult, 'size' | 'hash' | 'chunks'> {
  if (bytes.byteLength === 0) return { size: 0, hash: EMPTY_HASH };
  if (bytes.byteLength <= params.minSize) return { size: bytes.byteLength, hash: blake3Hex(bytes) };
  const chunker = new FileChunker(params);
  const chunks = [...chunker.push(bytes), ...chunker.finish()].map((c): [ChunkHash, number] => [c.hash, c.size]);
  const hash = chunker.contentHash();
  return chunks.length === 1 ? { size: bytes.byteLength, hash } : { size: bytes.byteLength, hash, chunks };
}

/** One block of a large file: its bytes and the chunks that end in it. */
export interface ChunkBlock {
  /** The block read from the file (transferable); chunks inside it are [offset, size] views. */
  block: ArrayBuffer;
  /** Bytes of the file in `block` (less than its length only at the end of the file). */
  bytes: number;
  /**
   * Chunks completed by this block, in file order: `at >= 0` is the chunk's offset in `block`;
   * `at === -1` means it spans blocks and its bytes are the first `size` bytes of the next entry
   * of `spanning` (recycled block buffers where they fit, so they go back like blocks).
   */
  chunks: Array<{ hash: ChunkHash; size: number; at: number }>;
  spanning: ArrayBuffer[];
}

export const BLOCK_BYTES = 4 * 1024 * 1024;

/**
 * Block buffers of this thread that may be read into again, by chunkFile or readSmallFiles.
 * Recycling them (the main thread gives each block or batch buffer back once its chunks are
 * copied out) keeps a put's memory flat; fresh 4 MiB buffers per block left RSS to the allocator
 * and the garbage collector (a put of 100k small files held 170 MB of spent batches).
 */
const spareBlocks: Uint8Array[] = [];

/**
 * Small-file batches that fit are read into buffers of this size instead of a block, recycled
 * the same way. A batch of 256 files of 1-4 KB is ~0.6 MB; in 4 MiB blocks, as before, a
 * 100k-file put peaked at 222-226 MiB on the client, in these at 192-197 (four pairs, same wall
 * time). Batches of larger files still fill blocks, so they are as few as before.
 */
export const BATCH_BYTES = 1024 * 1024;
const spareBatches: Uint8Array[] = [];

export function recycleBlock(block: ArrayBuffer): void {
  if (block.byteLength === BLOCK_BYTES && spareBlocks.length < 8) spareBlocks.push(new Uint8Array(block));
  else if (block.byteLength === BATCH_BYTES && spareBatches.length < 8) spareBatches.push(new Uint8Array(block));
}

/**
 * Stream one file through the chunker in BLOCK_BYTES reads, handing each block and its completed
 * chunks to `emit` (which may wait: that is the backpressure). Blocks are fresh buffers and the
 * chunker is told to let go of each one before it is emitted, so `emit` may transfer it.
 * Only boundaries are found here (chunk hashes are ''): the receiver hashes the chunks and the
 * whole file from the blocks, so cutting and hashing run on two threads.
 */
export async function chunkFile(
  path: string,
  params: ChunkerParams,
  emit: (block: ChunkBlock) => void | Promise<void>,
  /** The block is free again once `emit` resolves (inline use); otherwise it comes back via recycleBlock. */
  reuseAfterEmit = false,
): Promise<{ size: number }> {
  const fd = openSync(path, 'r');
  try {
    const chunker = new FileChunker(params, { hash: false });
    for (;;) {
      const buf = spareBlocks.pop() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES); // own memory (transferable), not zero-filled
      const n = readFully(fd, buf, 0, BLOCK_BYTES, chunker.size);
      if (n === 0) {
        spareBlocks.push(buf);
        break;
      }
      const data = n === BLOCK_BYTES ? buf : buf.subarray(0, n);
      const out = describeChunks(chunker.push(data), buf.buffer as ArrayBuffer);
      chunker.release();
      await emit({ block: buf.buffer as ArrayBuffer, bytes: n, ...out });
      if (reuseAfterEmit) for (const b of [buf.buffer as ArrayBuffer, ...out.spanning]) recycleBlock(b);
      if (n < BLOCK_BYTES) break;
    }
    const last = describeChunks(chunker.finish(), undefined);
    if (last.chunks.length > 0) await emit({ block: new ArrayBuffer(0), bytes: 0, ...last });
    return { size: chunker.size };
  } finally {
    closeSync(fd);
  }
}

function describeChunks(chunks: readonly Chunk[], block: ArrayBuffer | undefined): Pick<ChunkBlock, 'chunks' | 'spanning'> {
  const spanning: ArrayBuffer[] = [];
  const described = chunks.map((c) => {
    if (block !== undefined && c.bytes.buffer === block) return { hash: c.hash, size: c.size, at: c.bytes.byteOffset };
    // A fresh buffer per spanning chunk cost ~0.19 s per GB here, mostly first-touch page faults
    // (a quarter of a 1 GB file's bytes are in chunks that span 4 MiB blocks).
    const copy = c.size <= BLOCK_BYTES ? (spareBlocks.pop() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES)) : new Uint8Array(c.size);
    copy.set(c.bytes);
    spanning.push(copy.buffer as ArrayBuffer);
    return { hash: c.hash, size: c.size, at: -1 };
  });
  return { chunks: described, spanning };
}
