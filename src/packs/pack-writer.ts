/**
 * Groups chunks into pack objects of a few MiB (one object per chunk would mean 100k S3 requests
 * or fsyncs for 100k small files). A pack is the plain concatenation of its chunks; its id is the
 * BLAKE3 of its chunk list (hash and length of each, in order). The chunks were verified against
 * their hashes, so the list determines the bytes: rewriting the same pack is idempotent, and the
 * bytes are not hashed a second time (that pass cost ~0.3 s of server CPU per GB).
 *
 * Chunks are only *staged* here; `flush()` writes the pack and `publish()` makes every pack written
 * so far durable (one step for stores without ObjectStore.stage: flush puts them durably). The
 * caller writes the locations to the index only after publish: bytes always reach the store
 * before metadata refers to them.
 */
import { fail } from '../errors.js';
import { blake3Hex, blake3HexParts } from '../hash/blake3.js';
import { alignedBuffer } from '../storage/direct-io.js';
import type { ObjectStore, StagedObject } from '../storage/object-store.js';
import type { ChunkHash } from '../types.js';
import { packKey, type ChunkLocation } from './chunk-location.js';

export const DEFAULT_PACK_TARGET_BYTES = 16 * 1024 * 1024;

export class PackWriter {
  /** The pack being filled: staged chunks are copied in, back to back. */
  private buffer: Buffer | undefined;
  private bytes = 0;
  private chunks: Array<[ChunkHash, number]> = [];
  private staged = new Set<ChunkHash>();
  /** Each pack written, with its chunk list (locations are computed from it when asked). */
  private readonly written: Array<{ pack: string; chunks: ReadonlyArray<[ChunkHash, number]> }> = [];
  /** Packs written but not yet durable (stores with `stage`). */
  private readonly unpublished: StagedObject[] = [];

  constructor(
    private readonly store: ObjectStore,
    private readonly targetBytes = DEFAULT_PACK_TARGET_BYTES,
  ) {}

  /** Stage a verified chunk (its bytes are copied; the caller may reuse `bytes`); flushes when the pack is full. */
  async add(hash: ChunkHash, bytes: Uint8Array): Promise<void> {
    await this.addParts(hash, [bytes], bytes.byteLength);
  }

  /**
   * Stage a chunk given as views whose concatenation is its `length` bytes (e.g. the socket reads
   * it arrived in). The bytes are copied into the pack buffer rather than kept as views: a view
   * pins its whole read buffer until the pack is written, and in a 100k-file put those 64 KiB
   * reads, scattered through the heap, grew the server's glibc heap by ~25 MB that it never gave
   * back (pmap: 59-64 -> 33-42 MB). The copy costs ~3-4 ms per 16 MiB.
   *
   * With `verify`, the chunk is hashed where it was copied to and must match `hash`, else it is
   * taken back out and E_CHUNK_HASH_MISMATCH thrown. Hashing the one contiguous copy instead of
   * the socket reads it came in: those split a chunk at arbitrary offsets, and BLAKE3 fed in such
   * pieces ran at ~2.0 GB/s here against ~3.0 GB/s in one call (server CPU profile of a 1 GB put:
   * 0.66 s hashing the parts).
   */
  async addParts(hash: ChunkHash, parts: readonly Uint8Array[], length: number, verify = false): Promise<void> {
    if (this.staged.has(hash)) return;
    if (this.bytes + length > this.targetBytes) await this.flush();
    if (length > this.targetBytes) {
      // Larger than a whole pack (only with a small target): written alone, from the caller's views.
      if (verify) checkChunk(hash, blake3HexParts(parts));
      this.staged.add(hash);
      await this.write(parts, [[hash, length]]);
      return;
    }
    const buffer = (this.buffer ??= takeBuffer(this.targetBytes));
    const start = this.bytes;
    for (const part of parts) {
      buffer.set(part, this.bytes);
      this.bytes += part.byteLength;
    }
    if (verify) {
      const actual = blake3Hex(buffer.subarray(start, this.bytes));
      if (actual !== hash) {
        this.bytes = start;
        checkChunk(hash, actual);
      }
    }
    this.staged.add(hash);
    this.chunks.push([hash, length]);
    if (this.bytes === this.targetBytes) await this.flush();
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  /** Write the staged chunks as one pack object (durable once `publish` resolves). */
  async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const buffer = this.buffer!;
    const bytes = this.bytes;
    const chunks = this.chunks;
    this.buffer = undefined;
    this.bytes = 0;
    this.chunks = [];
    await this.write([buffer.subarray(0, bytes)], chunks);
    // Only after a put that resolved: a failed one might, in principle, still be reading it.
    giveBackBuffer(buffer);
  }

  /** Make every pack written so far durable; packs are flushed in parallel. */
  async publish(): Promise<void> {
    const packs = this.unpublished.splice(0);
    const results = await Promise.allSettled(packs.map((p) => p.publish()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Drop packs written but not published (the upload failed); never throws. */
  async discard(): Promise<void> {
    await Promise.all(this.unpublished.splice(0).map((p) => p.discard()));
  }

  /**
   * Locations of every chunk written so far, in write order. Made as they are iterated: an upload
   * keeps them until its packs are durable, and an object per chunk held that long (100k in a
   * put of small files) is promoted to V8's old generation before it is garbage.
   */
  *locations(): Generator<[ChunkHash, ChunkLocation]> {
    for (const { pack, chunks } of this.written) {
      let offset = 0;
      for (const [hash, length] of chunks) {
        yield [hash, { pack, offset, length }];
        offset += length;
      }
    }
  }

  private async write(parts: readonly Uint8Array[], chunks: ReadonlyArray<[ChunkHash, number]>): Promise<void> {
    const pack = packId(chunks);
    if (this.store.stage) this.unpublished.push(await this.store.stage(packKey(pack), parts));
    else await this.store.put(packKey(pack), parts);
    this.written.push({ pack, chunks });
  }
}

/**
 * Pack buffers outlive their writer (one writer per upload request) and are reused, so a busy
 * server allocates a few once instead of one per request. A request that fails mid-pack simply
 * drops its buffer to the garbage collector.
 */
const freeBuffers: Buffer[] = [];
/**
 * One per upload request in progress, up to four: a CLI keeps two in flight, and two clients
 * putting at once keep four. When one more request was in progress than buffers kept, each took a
 * fresh 16 MiB WebAssembly memory, and V8's collections for that external memory doubled the
 * server's CPU (a 1 GB put with three uploads in flight, keeping 2: server user CPU 1.98-2.16 s in
 * 3 of 3 runs; keeping 4: 1.04-1.13 s in 4 of 5). Only what concurrency once needed is kept, and
 * dropSparePackBuffers lets it go at rest.
 */
const KEEP_FREE_BUFFERS = 4;

function takeBuffer(size: number): Buffer {
  const i = freeBuffers.findIndex((b) => b.length === size);
  if (i >= 0) return freeBuffers.splice(i, 1)[0]!;
  // Aligned so that the local store can write the pack with O_DIRECT (storage/direct-io.ts).
  return alignedBuffer(size);
}

function giveBackBuffer(buffer: Buffer): void {
  if (freeBuffers.length < KEEP_FREE_BUFFERS) freeBuffers.push(buffer);
}

/**
 * Let go of the pack buffers kept for the next upload (the server at rest); returns their bytes.
 * Every page a pack ever filled stays resident in a kept buffer: 32 MiB after a large put from one
 * CLI, up to 64 MiB after four uploads at once.
 */
export function dropSparePackBuffers(): number {
  const bytes = freeBuffers.reduce((sum, b) => sum + b.length, 0);
  freeBuffers.length = 0;
  return bytes;
}

/** Throws E_CHUNK_HASH_MISMATCH unless uploaded bytes hashed to what the client claimed. */
export function checkChunk(claimed: ChunkHash, actual: ChunkHash): void {
  if (actual === claimed) return;
  throw fail('E_CHUNK_HASH_MISMATCH', `chunk claimed as ${claimed} hashes to ${actual}; nothing from this upload was stored`, { claimed, actual });
}

/** `<hash> <length>\n` per chunk, hashed. */
function packId(chunks: ReadonlyArray<[ChunkHash, number]>): string {
  let list = '';
  for (const [hash, length] of chunks) list += `${hash} ${length}\n`;
  return blake3Hex(list);
}
