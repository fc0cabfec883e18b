/**
 * Worker threads for the file work of a put (file-tasks.ts): stat, read+hash small files, chunk
 * large ones; and of a get (write-tasks.ts): verify and write small files. The main thread keeps
 * the network; the workers keep the disk and the CPU-heavy chunking and hashing, so both proceed
 * at once. With 0 workers (or when the compiled worker script is absent, as under a TypeScript
 * test runner without a build) the same functions run inline, with identical results.
 *
 * Workers start with the first task that needs them, not with the pool: a worker takes ~0.1 s of
 * CPU to boot, longer than a put of a few small files takes in all, so until one has started,
 * small tasks (a few paths to stat, a few MB to read or chunk) run inline.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChunkerParams } from '../../src/chunking/index.js';
import { fail } from '../../src/errors.js';
import { chunkFile, readSmallFiles, recycleBlock, type ChunkBlock, type ReadBatchResult, type SmallFileRequest } from './file-tasks.js';
import { packReadRequest, unpackReadResult, type PackedReadResult } from './read-packing.js';
import { scanTree, statFiles, type TreeScan } from './scan-tasks.js';
import type { TaskRequest, WorkerNotice, WorkerReply } from './worker-protocol.js';
import { writeSmallFiles, type WriteBatch, type WriteBatchResult } from './write-tasks.js';
import { errnoText } from './errno.js';

type ChunkedFile = { size: number };

interface Pending {
  request: TaskRequest;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  onBlock?: (block: ChunkBlock) => Promise<void>;
  /** Blocks are handed to onBlock one after another, in file order, even when several arrived. */
  chain?: Promise<void>;
  /** Buffers moved (not copied) to the worker with the request. */
  transfer?: ArrayBuffer[];
}

interface Slot {
  worker: Worker;
  /** Tasks sent and not yet answered, oldest first (the worker runs them in order). */
  inflight: Pending[];
}

/**
 * Tasks a worker may hold at once: the next is already there when one ends, so a worker does not
 * sit idle while the main thread is busy (a re-put's scan spent a third of its time so).
 */
const PIPELINE = 4;

/** Batch buffers held for the next read tasks (one goes with each) at most; more are left to the garbage collector. */
const MAX_TO_RECYCLE = 8;

/** Until the workers have started: stat lists up to this many paths run inline (~3 us each)... */
const INLINE_STAT_PATHS = 64;
/** ...and so do reads and chunking up to this many bytes (a few ms, against ~0.1 s to boot a worker). */
export const INLINE_BYTES = 8 * 1024 * 1024;

/**
 * Default worker count: the cores less the one the main thread uploads from, but at least 2 (stat
 * and small-file reads are syscall-bound and overlap well even on 2 cores), at most 4.
 */
export function defaultWorkerCount(env: NodeJS.ProcessEnv = process.env): number {
  const configured = env['DATACTL_WORKERS'];
  if (configured !== undefined && /^\d+$/.test(configured)) return Math.min(Number(configured), 16);
  return Math.max(2, Math.min(4, os.availableParallelism() - 1));
}

/**
 * A worker's young generation, in MB. Its garbage is small and short-lived (task results; the
 * bytes are in recycled blocks outside the heap), while V8's default lets a young generation grow
 * far past that (the main thread's reached 32 MB in the same put). 100k-file put, six runs each:
 * client peak RSS 218-242 -> 210-218 MB; a 1 GB put's client CPU and peak unchanged.
 */
const WORKER_YOUNG_GENERATION_MB = 4;

export class FilePool {
  private readonly slots: Slot[] = [];
  /** Batch buffers to send back with the next read task (see recycle). */
  private readonly toRecycle: ArrayBuffer[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private failure: Error | undefined;
  private readonly script: URL | undefined;
  /** Whether the workers were started: from then on every task goes to them while any is left. */
  private started = false;

  constructor(private readonly size = defaultWorkerCount()) {
    this.script = size > 0 ? workerScript() : undefined;
  }

  /** Worker threads this pool runs tasks on (once started); 0: everything inline. */
  get workers(): number {
    return this.script ? this.size : 0;
  }

  /** Worker threads started and alive. */
  get running(): number {
    return this.slots.length;
  }

  stat(paths: string[]): Promise<Float64Array> {
    if (this.inline(paths.length <= INLINE_STAT_PATHS)) return Promise.resolve().then(() => statFiles(paths));
    return this.submit({ id: this.nextId++, kind: 'stat', paths }) as Promise<Float64Array>;
  }

  /** List and stat a whole directory tree (scanTree); fails with the errno of an unreadable directory. */
  scan(dir: string): Promise<TreeScan> {
    if (this.inline(false)) return Promise.resolve().then(() => scanTree(dir));
    return this.submit({ id: this.nextId++, kind: 'scan', dir }) as Promise<TreeScan>;
  }

  readSmall(files: SmallFileRequest[], params: ChunkerParams): Promise<ReadBatchResult> {
    if (this.inline(files.reduce((sum, f) => sum + f.size, 0) <= INLINE_BYTES)) return Promise.resolve().then(() => readSmallFiles(files, params));
    const packed = packReadRequest(files);
    // One buffer given back per read: the read needs one, and whichever worker takes it gets it.
    // All of them at once piled up on one worker (past its 8 spares, the rest garbage) while the
    // other, getting reads with none, made new ones: a 100k-file put allocated ~175 1 MiB buffers
    // for its 391 batches.
    const recycle = this.toRecycle.splice(0, 1);
    const reading = this.submit({ id: this.nextId++, kind: 'read', files: packed, params, recycle }, undefined, [packed.sizes.buffer as ArrayBuffer, ...recycle]);
    return reading.then((result) => unpackReadResult(result as PackedReadResult));
  }

  /**
   * Give back the buffer of a readSmall batch whose bytes were taken: a later batch is read into
   * it. It goes with a later read task (one per task), not in a message of its own (~400 in a
   * 100k-file put): on 2 busy cores a message that wakes a worker cost the main thread 0.3-0.75 ms
   * in profiles of that put, against 6-8 us on an idle machine.
   */
  recycle(buffer: ArrayBuffer): void {
    if (this.slots.length === 0) return recycleBlock(buffer);
    if (this.toRecycle.length < MAX_TO_RECYCLE) this.toRecycle.push(buffer);
  }

  /** Verify and write a batch of downloaded small files; the batch's buffer is transferred. */
  writeSmall(batch: WriteBatch): Promise<WriteBatchResult> {
    if (this.inline(false)) return Promise.resolve().then(() => writeSmallFiles(batch));
    return this.submit({ id: this.nextId++, kind: 'write', batch }, undefined, [batch.buffer]) as Promise<WriteBatchResult>;
  }

  /**
   * Chunk one file; `onBlock` gets each block in order and the next is read while it runs. The
   * block's memory is reused once onBlock resolves: copy whatever must outlive the call. `size`
   * (as stat'ed) only decides where the work runs.
   */
  async chunk(path: string, size: number, params: ChunkerParams, onBlock: (block: ChunkBlock) => Promise<void>): Promise<ChunkedFile> {
    try {
      if (this.inline(size <= INLINE_BYTES)) return await chunkFile(path, params, onBlock, true);
      return (await this.submit({ id: this.nextId++, kind: 'chunk', path, params }, onBlock)) as ChunkedFile;
    } catch (err) {
      throw readError(path, err);
    }
  }

  /** Whether a task runs on this thread: without workers (none, or all closed), and while `small` until they start. */
  private inline(small: boolean): boolean {
    if (this.started) return this.slots.length === 0;
    if (!this.script || small) return true;
    this.started = true;
    for (let i = 0; i < this.size; i++) {
      const slot: Slot = { worker: new Worker(this.script, { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } }), inflight: [] };
      slot.worker.on('message', (m: WorkerReply) => this.onReply(slot, m));
      slot.worker.on('error', (err) => this.onCrash(slot, err));
      this.slots.push(slot);
    }
    return false;
  }

  /** Stop the workers; a later task large enough starts them again (a put retried after its reads were done). */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    this.started = false;
    this.toRecycle.length = 0;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private submit(request: TaskRequest, onBlock?: Pending['onBlock'], transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject, ...(onBlock ? { onBlock } : {}), ...(transfer ? { transfer } : {}) });
      this.dispatch();
    });
  }

  /** Queued tasks, in order, each to the worker holding fewest. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      const task = this.queue[0]!;
      let best: Slot | undefined;
      for (const slot of this.slots) if (canTake(slot, task) && (!best || slot.inflight.length < best.inflight.length)) best = slot;
      if (!best) return;
      this.queue.shift();
      best.inflight.push(task);
      best.worker.postMessage(task.request, task.transfer ?? []);
    }
  }

  private onReply(slot: Slot, m: WorkerReply): void {
    const task = slot.inflight.find((t) => t.request.id === m.id);
    if (!task) return;
    if (m.kind === 'block') {
      // Acknowledged once taken, so the worker reads ahead a bounded amount.
      task.chain = (task.chain ?? Promise.resolve()).then(async () => {
        await task.onBlock!(m.block);
        // onBlock copied what it keeps: the block and its spanning chunks' buffers go back to be read into again.
        const { block, spanning } = m.block;
        slot.worker.postMessage({ kind: 'credit', block, spanning } satisfies WorkerNotice, [block, ...spanning].filter((b) => b.byteLength > 0));
      });
      // A consumer that failed will never ack again: the worker would wait forever, so retire it.
      task.chain.catch((err: Error) => {
        if (!slot.inflight.includes(task)) return;
        this.slots.splice(this.slots.indexOf(slot), 1);
        void slot.worker.terminate();
        for (const held of slot.inflight.splice(0)) held.reject(err);
        if (this.slots.length === 0) for (const queued of this.queue.splice(0)) queued.reject(err);
        this.dispatch();
      });
      return;
    }
    const settle = m.kind === 'error' ? () => task.reject(Object.assign(new Error(m.message), { code: m.code })) : () => task.resolve(m.result);
    // Answered at once, unless blocks of this task are still being taken: then after them.
    if (!task.chain) return this.finish(slot, task, settle);
    void task.chain.then(
      () => this.finish(slot, task, settle),
      () => undefined, // handled where the block failed
    );
  }

  private finish(slot: Slot, task: Pending, settle: () => void): void {
    slot.inflight.splice(slot.inflight.indexOf(task), 1);
    settle();
    this.dispatch();
  }

  private onCrash(slot: Slot, err: Error): void {
    this.failure = fail('E_INTERNAL', `a file worker crashed: ${err.message}`);
    for (const task of slot.inflight.splice(0)) task.reject(this.failure);
    for (const task of this.queue.splice(0)) task.reject(this.failure);
  }
}

/** A chunk task streams blocks against credits, so it has its worker to itself. */
function canTake(slot: Slot, task: Pending): boolean {
  if (slot.inflight.length === 0) return true;
  if (task.request.kind === 'chunk' || slot.inflight[0]!.request.kind === 'chunk') return false;
  return slot.inflight.length < PIPELINE;
}

/** The compiled worker next to this module; from TypeScript sources, the built copy in dist/. */
function workerScript(): URL | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../dist/cli/transfer/file-worker.js', here) : new URL('./file-worker.js', here);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

function readError(path: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && 'code' in e && typeof e.code === 'string' && e.code.startsWith('E') && !e.code.startsWith('E_')) {
    return fail('E_BAD_REQUEST', `cannot read ${JSON.stringify(path)}: ${errnoText(e)}`, { local: path });
  }
  return err as Error;
}
