/**
 * Reads chunks by hash: looks up their locations, coalesces runs of adjacent chunks of one pack
 * into a single ranged read, keeps a couple of reads in flight, and re-hashes every chunk before
 * handing it out (a chunk that does not match its name is corruption, never data), unless the
 * caller hands the chunks with their names to a reader that checks them itself.
 *
 * A caller that can tell when it is done with a chunk (the server, once the socket has written
 * it) reads with `recycle` and hands each chunk back through `release`: runs are then read into
 * a few reused buffers (BufferPool). Fresh ones cost the server of a 1 GB file read ~1.5 s of CPU
 * more: the kernel faulting in and zeroing 1 GB of new pages, and a full garbage collection every
 * ~100 ms that V8 runs to account for the buffers' external memory.
 */
import { fail } from '../errors.js';
import { blake3Hex } from '../hash/blake3.js';
import { keys } from '../meta/keys.js';
import type { MetaStore } from '../meta/meta-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ChunkHash } from '../types.js';
import { BufferPool } from '../util/buffer-pool.js';
import { decodeLocation, isDamaged, packKey, type ChunkLocation } from './chunk-location.js';

// Runs of a few MiB: large enough to amortize a ranged read (an S3 GET), small enough that three
// in flight per download keep the server well under its memory budget.
const MAX_RUN_BYTES = 4 * 1024 * 1024;
const LOOKUP_BATCH = 4096;
const READ_AHEAD = 2;
/** Reused run buffers kept while no read needs them: the read-ahead and one being sent. */
const KEEP_FREE_BUFFERS = READ_AHEAD + 1;

interface Run {
  pack: string;
  offset: number;
  length: number;
  chunks: Array<{ hash: ChunkHash; at: number; length: number }>;
}

export interface ReadOptions {
  /** Re-hash every chunk (default true); see read. */
  verify?: boolean;
  /** Read into reused buffers: the caller must `release` every chunk it is handed, once, when done with its bytes. */
  recycle?: boolean;
}

export class ChunkReader {
  private readonly buffers = new BufferPool(MAX_RUN_BYTES, KEEP_FREE_BUFFERS);

  constructor(
    private readonly meta: MetaStore,
    private readonly store: ObjectStore,
  ) {}

  /** Let go of the run buffers kept for the next read (the server at rest); returns their bytes. */
  dropSpareBuffers(): number {
    return this.buffers.dropFree();
  }

  /** Hand back a chunk (or a view of one) that a `recycle` read gave out; its bytes may then be overwritten. */
  release(chunk: Uint8Array): void {
    this.buffers.release(chunk);
  }

  async locate(hashes: readonly ChunkHash[]): Promise<ChunkLocation[]> {
    const values = await this.meta.getMany(hashes.map(keys.chunk));
    return values.map((v, i) => {
      if (v === undefined) throw fail('E_OBJECT_NOT_FOUND', `chunk ${hashes[i]} is referenced but not in the chunk index`);
      if (isDamaged(v)) {
        throw fail('E_CORRUPT_OBJECT', `chunk ${hashes[i]} is damaged in the object store: put a file that holds it again (put --no-index if it was put from that machine before) to repair every commit that names it`, {
          chunk: hashes[i],
        });
      }
      return decodeLocation(v);
    });
  }

  /**
   * The chunks' bytes, in the order given (repeats allowed). `verify: false` skips the re-hash, for
   * callers whose consumer verifies every chunk against its name anyway (chunks/read: its frames
   * carry the hashes and clients must check them, as git's upload-pack leaves checking objects to
   * the fetching side); the re-hash was ~1.2 s of the server's profile for a 100k-chunk read.
   */
  async *read(hashes: readonly ChunkHash[], options: ReadOptions = {}): AsyncGenerator<Buffer> {
    for await (const run of this.readRuns(hashes, options)) yield* run;
  }

  /**
   * `read`'s chunks a run at a time (the chunks of one ranged read, in order): for a consumer of
   * many small chunks, where a step of an async generator per chunk, through every layer that
   * passes them on, costs more than the chunk.
   */
  async *readRuns(hashes: readonly ChunkHash[], options: ReadOptions = {}): AsyncGenerator<Buffer[]> {
    const verify = options.verify ?? true;
    const recycle = options.recycle ?? false;
    const pending: Array<Promise<Buffer[]>> = [];
    for await (const run of this.runs(hashes)) {
      const read = this.readRun(run, verify, recycle);
      // A read-ahead whose consumer stops early (client gone) must not become an unhandled
      // rejection; the consumer still sees the error when it awaits this read.
      read.catch(() => undefined);
      pending.push(read);
      if (pending.length > READ_AHEAD) yield pending.shift()!; // an async generator's yield awaits
    }
    while (pending.length > 0) yield pending.shift()!;
  }

  private async *runs(hashes: readonly ChunkHash[]): AsyncGenerator<Run> {
    let run: Run | undefined;
    for (let start = 0; start < hashes.length; start += LOOKUP_BATCH) {
      const batch = hashes.slice(start, start + LOOKUP_BATCH);
      const locations = await this.locate(batch);
      for (let i = 0; i < batch.length; i++) {
        const loc = locations[i]!;
        const adjacent = run && run.pack === loc.pack && run.offset + run.length === loc.offset;
        if (!run || !adjacent || run.length + loc.length > MAX_RUN_BYTES) {
          if (run) yield run;
          run = { pack: loc.pack, offset: loc.offset, length: 0, chunks: [] };
        }
        run.chunks.push({ hash: batch[i]!, at: run.length, length: loc.length });
        run.length += loc.length;
      }
    }
    if (run) yield run;
  }

  private async readRun(run: Run, verify: boolean, recycle: boolean): Promise<Buffer[]> {
    // A run is longer than MAX_RUN_BYTES only when one chunk is (a custom chunker's): read fresh.
    const into = recycle && run.length <= MAX_RUN_BYTES ? this.buffers.take() : undefined;
    let bytes: Buffer;
    try {
      bytes = await this.store.getRange(packKey(run.pack), run.offset, run.length, into);
      // Without the re-hash, a short read would otherwise surface as misaligned chunks.
      if (bytes.byteLength !== run.length) {
        throw fail('E_CORRUPT_OBJECT', `pack ${run.pack} is truncated: ${bytes.byteLength} of ${run.length} bytes at ${run.offset}`);
      }
      if (verify) {
        for (const c of run.chunks) {
          if (blake3Hex(bytes.subarray(c.at, c.at + c.length)) !== c.hash) {
            throw fail('E_CORRUPT_OBJECT', `chunk ${c.hash} in pack ${run.pack} does not match its hash`);
          }
        }
      }
    } catch (err) {
      if (into) this.buffers.giveBack(into);
      throw err;
    }
    // A store that answered a buffer of its own leaves `into` unused.
    if (into && bytes.buffer !== into.buffer) this.buffers.giveBack(into);
    else if (into) this.buffers.lend(into, run.chunks.length);
    return run.chunks.map((c) => bytes.subarray(c.at, c.at + c.length));
  }
}
