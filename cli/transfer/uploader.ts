/**
 * Collects chunks into batches, asks the server which ones it lacks, and uploads only those in
 * framed requests, several in flight. Each chunk is copied, as its wire frame (header, then bytes),
 * into one of `max(inFlight, inFlightLarge) + 1` reusable batch buffers ("arenas"), so memory is
 * fixed (about that many x batchBytes) instead of depending on when the garbage collector frees the
 * reader's buffers (which let a 1 GB put peak at ~280 MB), and readers may reuse their buffers as
 * soon as `add` returns. `add` waits for a free slot (backpressure to the reader).
 *
 * Frames lie back to back in their arena, so the wanted ones go out as a few long views (one per
 * run of consecutive frames the server lacks) instead of two parts per chunk: a request of 3,000
 * small chunks had been 6,000 writes through the HTTP stream.
 *
 * Batches are numbered from 1 in the order they are made; `add` tells which one carries the chunk,
 * and `uploaded(n)` resolves once batches 1..n are all answered, i.e. once the server holds every
 * chunk they carry. That lets a put stream its commit while it still uploads (put.ts): a file's
 * change is sent only after the batches with its chunks.
 */
import { FRAME_HEADER_BYTES, frameSize, writeFrameHeader } from '../../src/wire/frames.js';
import type { DatactlClient } from '../client.js';
import type { ChunkHash } from '../../src/types.js';
import { TaskPool } from './pool.js';

export interface UploaderOptions {
  /** Flush a batch once its frames (headers and bytes) fill this many bytes (default 8 MiB; also the size of each arena)... */
  batchBytes?: number;
  /** ...or this many chunks (default 8192). */
  batchChunks?: number;
  /** Upper bound of one upload request body (default 32 MiB). */
  requestBytes?: number;
  /** Batches being checked/uploaded at once (default 2)... */
  inFlight?: number;
  /** ...or, while the batch about to go holds few large chunks, this many (default 4, or `inFlight` if that alone is given). */
  inFlightLarge?: number;
}

export interface UploadStats {
  /** Chunk references seen (every chunk of every file). */
  chunks: number;
  /** Distinct chunks in this upload. */
  uniqueChunks: number;
  uploadedChunks: number;
  uploadedBytes: number;
}

const MiB = 1024 * 1024;

/**
 * A batch of at most this many chunks (8 KiB or more on average in a full 8 MiB batch) may go with
 * `inFlightLarge` batches in flight. Such a batch costs the server little CPU (a hash per chunk,
 * one pack) and its request mostly waits on the pack's two disk flushes, so more at once keep both
 * sides busy: a 1 GB put took 2.50-2.86 s with two in flight (8 runs; a ninth 3.24 s) and
 * 2.19-2.45 s with four (45 runs: with the collection fix of serve.ts, or before it in runs its
 * loop did not catch). A batch of thousands of small chunks keeps the server's CPU busy instead,
 * and four of those only cost memory: a 100k-file put, three pairs, 3.66-3.94 s with two, 3.77-4.08 s
 * with four, client peak 196-216 -> 248-263 MiB, server 201-214 -> 224-248 MiB.
 */
const LARGE_BATCH_CHUNKS = 1024;

/** A chunk in a batch: its frame (header, then bytes) is `buf[at, at + frameSize(size))`. */
export interface PlacedFrame {
  hash: ChunkHash;
  buf: Buffer;
  at: number;
  size: number;
}

export class ChunkUploader {
  private readonly opts: Required<UploaderOptions>;
  /** Every chunk offered so far, with the number of the batch that carries it. */
  private readonly seen = new Map<string, number>();
  /** The number of the batch being filled. */
  private batchSeq = 1;
  /** Batches 1..uploadedThrough are answered; `answered` holds later ones that finished first. */
  private uploadedThrough = 0;
  private readonly answered = new Set<number>();
  private waiters: Array<{ seq: number; resolve: () => void; reject: (err: unknown) => void }> = [];
  private failure: { error: unknown } | undefined;
  private batch: PlacedFrame[] = [];
  /** Frame bytes (headers and chunk bytes) in the batch being filled. */
  private batchBytes = 0;
  /** The arena the current batch is copied into, and the ones whose uploads finished. */
  private arena: Buffer | undefined;
  private arenaUsed = 0;
  private readonly freeArenas: Buffer[] = [];
  /** Set while a full batch waits for an upload slot: adders wait too, else each would fill an arena of its own. */
  private gate: Promise<void> | undefined;
  private readonly pool: TaskPool;
  readonly stats: UploadStats = { chunks: 0, uniqueChunks: 0, uploadedChunks: 0, uploadedBytes: 0 };

  constructor(
    private readonly client: DatactlClient,
    private readonly repo: string,
    options: UploaderOptions = {},
  ) {
    this.opts = {
      // One request becomes one pack on the server, and each pack costs two disk flushes (file and
      // directory; ~15-90 ms each on the disks measured), so batches are large; 8 MiB rather than
      // 16 since the arenas are most of a put's memory (16: a 100k-file put peaked at 357 MB).
      batchBytes: options.batchBytes ?? 8 * MiB,
      batchChunks: options.batchChunks ?? 8192,
      requestBytes: options.requestBytes ?? 32 * MiB, // a whole batch in one request
      inFlight: options.inFlight ?? 2,
      inFlightLarge: options.inFlightLarge ?? options.inFlight ?? 4,
    };
    this.pool = new TaskPool(Math.max(this.opts.inFlight, this.opts.inFlightLarge));
  }

  /**
   * Offer a chunk; its bytes are copied before this returns, so the caller may reuse them. Resolves
   * to the number of the batch that carries it (see `uploaded`).
   */
  async add(hash: ChunkHash, bytes: Uint8Array): Promise<number> {
    this.stats.chunks++;
    // Waits come first and the check for a chunk seen before comes after them, with nothing
    // awaited between it and the push: a chunk offered twice at once is placed once, and both
    // callers learn the batch it went in.
    for (;;) {
      const placed = this.seen.get(hash);
      if (placed !== undefined) return placed;
      // Several readers add at once (a put's small-file batches): 6 arenas were in use instead of 3.
      if (this.gate) {
        await this.gate;
        continue;
      }
      if (!this.fitsArena(bytes.byteLength)) {
        await this.dispatch();
        continue;
      }
      break;
    }
    const seq = this.place(hash, bytes);
    if (this.batchFull()) await this.dispatch();
    return seq;
  }

  /**
   * `add` for the common case that needs no wait, with no promise: the batch number, or undefined
   * when nothing was done and the caller must `await add(hash, bytes)` (a gate is up, the arena is
   * full, or this chunk would fill the batch). A put of 100k small files adds them all on one
   * thread, and an await per chunk is a promise and a suspension each.
   */
  addNow(hash: ChunkHash, bytes: Uint8Array): number | undefined {
    const placed = this.seen.get(hash);
    if (placed !== undefined) {
      this.stats.chunks++;
      return placed;
    }
    if (this.gate || !this.fitsArena(bytes.byteLength)) return undefined;
    if (this.batchBytes + frameSize(bytes.byteLength) >= this.opts.batchBytes || this.batch.length + 1 >= this.opts.batchChunks) return undefined;
    this.stats.chunks++;
    return this.place(hash, bytes);
  }

  private fitsArena(size: number): boolean {
    return !this.arena || this.batch.length === 0 || this.arenaUsed + frameSize(size) <= this.arena.byteLength;
  }

  private batchFull(): boolean {
    return this.batchBytes >= this.opts.batchBytes || this.batch.length >= this.opts.batchChunks;
  }

  /** Copy a chunk into the batch being filled; nothing is awaited (see `add`). */
  private place(hash: ChunkHash, bytes: Uint8Array): number {
    const frame = this.copyIn(hash, bytes); // first: it throws on a malformed hash, changing nothing
    const seq = this.batchSeq;
    this.seen.set(hash, seq);
    this.stats.uniqueChunks++;
    this.batch.push(frame);
    this.batchBytes += frameSize(bytes.byteLength);
    return seq;
  }

  /**
   * Resolves once batches 1..`seq` have all been answered (0: at once); rejects with the first
   * upload failure. A batch still being filled is sent when it is full or by `finish`.
   */
  uploaded(seq: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (seq <= this.uploadedThrough) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  private answer(seq: number): void {
    if (this.failure) return; // a batch cut short by another's failure is not answered
    this.answered.add(seq);
    while (this.answered.delete(this.uploadedThrough + 1)) this.uploadedThrough++;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (w.seq <= this.uploadedThrough) w.resolve();
      else this.waiters.push(w);
    }
  }

  private failed(error: unknown): void {
    this.failure ??= { error };
    for (const w of this.waiters) w.reject(this.failure.error);
    this.waiters = [];
  }

  /** Frame into the current arena (taking one first if needed); a frame larger than any arena gets its own buffer. */
  private copyIn(hash: ChunkHash, bytes: Uint8Array): PlacedFrame {
    const size = bytes.byteLength;
    const capacity = this.opts.batchBytes;
    let buf: Buffer;
    let at: number;
    if (frameSize(size) > capacity) {
      buf = Buffer.allocUnsafeSlow(frameSize(size));
      at = 0;
    } else {
      if (!this.arena) {
        // Only the frames written are ever sent, so the arena need not be zeroed.
        this.arena = this.freeArenas.pop() ?? Buffer.allocUnsafeSlow(capacity);
        this.arenaUsed = 0;
      }
      buf = this.arena;
      at = this.arenaUsed;
    }
    writeFrameHeader(buf, at, hash, size);
    buf.set(bytes, at + FRAME_HEADER_BYTES);
    if (buf === this.arena) this.arenaUsed += frameSize(size);
    return { hash, buf, at, size };
  }

  /** Flush the last batch and wait for every upload; throws the first failure. */
  async finish(): Promise<UploadStats> {
    if (this.batch.length > 0) await this.dispatch();
    await this.pool.drain();
    return this.stats;
  }

  /** Drop the buffers kept for reuse, once nothing more will be added. */
  release(): void {
    this.freeArenas.length = 0;
  }

  /** Wait for in-flight uploads without throwing (cleanup after a failure elsewhere). */
  settle(): Promise<void> {
    return this.pool.settle();
  }

  /** Hand the current batch to the pool; waits while `inFlight` (or `inFlightLarge`) batches are in progress. */
  private async dispatch(): Promise<void> {
    const batch = this.batch;
    const limit = batch.length <= LARGE_BATCH_CHUNKS ? this.opts.inFlightLarge : this.opts.inFlight;
    const arena = this.arena;
    const seq = this.batchSeq++;
    this.batch = [];
    this.batchBytes = 0;
    this.arena = undefined;
    const started = this.pool.run(async () => {
      try {
        await this.upload(batch);
        this.answer(seq);
      } catch (err) {
        this.failed(err);
        throw err;
      } finally {
        if (arena) this.freeArenas.push(arena);
      }
    }, limit);
    const open = () => {
      if (this.gate === gate) this.gate = undefined;
    };
    const gate: Promise<void> = started.then(open, (err: unknown) => {
      open();
      throw err;
    });
    this.gate = gate;
    await gate;
  }

  /** Check which chunks the server lacks, then send those. */
  private async upload(batch: PlacedFrame[]): Promise<void> {
    const { missing } = await this.client.missingChunks(
      this.repo,
      batch.map((f) => f.hash),
    );
    const wanted = new Set(missing);
    const requests = uploadRequests(
      batch.filter((f) => wanted.has(f.hash)),
      this.opts.requestBytes,
    );
    batch.length = 0;
    for (const request of requests) {
      if (this.pool.failed) break;
      await this.client.uploadChunks(this.repo, request.parts);
      this.stats.uploadedChunks += request.chunks;
      this.stats.uploadedBytes += request.bytes;
    }
  }
}

/** One upload request: its body as views of the frames' buffers, and what it carries. */
export interface UploadRequest {
  parts: Buffer[];
  chunks: number;
  /** Payload bytes (frames less their headers). */
  bytes: number;
}

/**
 * Split frames, in order, into requests whose body stays under `limit` (a lone larger frame is a
 * request of its own), each body one view per run of frames that lie back to back in one buffer.
 */
export function uploadRequests(frames: readonly PlacedFrame[], limit: number): UploadRequest[] {
  const requests: UploadRequest[] = [];
  let current: UploadRequest = { parts: [], chunks: 0, bytes: 0 };
  let size = 0;
  let run: { buf: Buffer; start: number; end: number } | undefined;
  const endRun = () => {
    if (run) current.parts.push(run.buf.subarray(run.start, run.end));
    run = undefined;
  };
  for (const f of frames) {
    const n = frameSize(f.size);
    if (current.chunks > 0 && size + n > limit) {
      endRun();
      requests.push(current);
      current = { parts: [], chunks: 0, bytes: 0 };
      size = 0;
    }
    if (run && run.buf === f.buf && run.end === f.at) {
      run.end += n;
    } else {
      endRun();
      run = { buf: f.buf, start: f.at, end: f.at + n };
    }
    current.chunks++;
    current.bytes += f.size;
    size += n;
  }
  endRun();
  if (current.chunks > 0) requests.push(current);
  return requests;
}
