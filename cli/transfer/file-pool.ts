/**
 * Worker threads for the file work of a put (file-tasks.ts): stat, read+hash small files, chunk
 * large ones; and of a get (write-tasks.ts): verify and write small files. The main thread keeps
 * the network; the workers keep the disk and the CPU-heavy chunking and hashing, so both proceed
 * at once. With 0 workers (or when the compiled worker
 * script is absent, as under a TypeScript test runner without a build) the same functions run
 * inline, with identical results.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ChunkerParams } from '../../src/chunking/index.js';
import { fail } from '../../src/errors.js';
import { chunkFile, readSmallFiles, scanTree, statFiles, type ChunkBlock, type ReadBatchResult, type SmallFileRequest, type TreeScan } from './file-tasks.js';
import { writeSmallFiles, type WriteBatch, type WriteBatchResult } from './write-tasks.js';

/** Blocks a chunk task may send before the main thread has taken them (memory: this x 4 MiB). */
export const CHUNK_BLOCKS_AHEAD = 3;

export type TaskRequest =
  | { id: number; kind: 'stat'; paths: string[] }
  | { id: number; kind: 'scan'; dir: string }
  | { id: number; kind: 'read'; files: SmallFileRequest[]; params: ChunkerParams }
  | { id: number; kind: 'chunk'; path: string; params: ChunkerParams }
  | { id: number; kind: 'write'; batch: WriteBatch };

export type WorkerReply =
  | { id: number; kind: 'done'; result: unknown }
  | { id: number; kind: 'block'; block: ChunkBlock }
  | { id: number; kind: 'error'; code: string | undefined; message: string };

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
  busy: Pending | undefined;
}

/**
 * Default worker count: the cores less the one the main thread uploads from, but at least 2 (stat
 * and small-file reads are syscall-bound and overlap well even on 2 cores), at most 4.
 */
export function defaultWorkerCount(env: NodeJS.ProcessEnv = process.env): number {
  const configured = env['DATACTL_WORKERS'];
  if (configured !== undefined && /^\d+$/.test(configured)) return Math.min(Number(configured), 16);
  return Math.max(2, Math.min(4, os.availableParallelism() - 1));
}

export class FilePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private failure: Error | undefined;

  constructor(workers = defaultWorkerCount()) {
    const script = workerScript();
    if (!script) return;
    for (let i = 0; i < workers; i++) {
      const slot: Slot = { worker: new Worker(script), busy: undefined };
      slot.worker.on('message', (m: WorkerReply) => this.onReply(slot, m));
      slot.worker.on('error', (err) => this.onCrash(slot, err));
      this.slots.push(slot);
    }
  }

  get workers(): number {
    return this.slots.length;
  }

  stat(paths: string[]): Promise<Float64Array> {
    if (this.slots.length === 0) return Promise.resolve().then(() => statFiles(paths));
    return this.submit({ id: this.nextId++, kind: 'stat', paths }) as Promise<Float64Array>;
  }

  /** List and stat a whole directory tree (scanTree); fails with the errno of an unreadable directory. */
  scan(dir: string): Promise<TreeScan> {
    if (this.slots.length === 0) return Promise.resolve().then(() => scanTree(dir));
    return this.submit({ id: this.nextId++, kind: 'scan', dir }) as Promise<TreeScan>;
  }

  readSmall(files: SmallFileRequest[], params: ChunkerParams): Promise<ReadBatchResult> {
    if (this.slots.length === 0) return Promise.resolve().then(() => readSmallFiles(files, params));
    return this.submit({ id: this.nextId++, kind: 'read', files, params }) as Promise<ReadBatchResult>;
  }

  /** Verify and write a batch of downloaded small files; the batch's buffer is transferred. */
  writeSmall(batch: WriteBatch): Promise<WriteBatchResult> {
    if (this.slots.length === 0) return Promise.resolve().then(() => writeSmallFiles(batch));
    return this.submit({ id: this.nextId++, kind: 'write', batch }, undefined, [batch.buffer]) as Promise<WriteBatchResult>;
  }

  /**
   * Chunk one file; `onBlock` gets each block in order and the next is read while it runs. The
   * block's memory is reused once onBlock resolves: copy whatever must outlive the call.
   */
  async chunk(path: string, params: ChunkerParams, onBlock: (block: ChunkBlock) => Promise<void>): Promise<ChunkedFile> {
    try {
      if (this.slots.length === 0) return await chunkFile(path, params, onBlock, true);
      return (await this.submit({ id: this.nextId++, kind: 'chunk', path, params }, onBlock)) as ChunkedFile;
    } catch (err) {
      throw readError(path, err);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }

  private submit(request: TaskRequest, onBlock?: Pending['onBlock'], transfer?: ArrayBuffer[]): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject, ...(onBlock ? { onBlock } : {}), ...(transfer ? { transfer } : {}) });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      slot.busy = this.queue.shift()!;
      slot.worker.postMessage(slot.busy.request, slot.busy.transfer ?? []);
    }
  }

  private onReply(slot: Slot, m: WorkerReply): void {
    const task = slot.busy;
    if (!task || task.request.id !== m.id) return;
    if (m.kind === 'block') {
      // Acknowledged once taken, so the worker reads ahead a bounded amount.
      task.chain = (task.chain ?? Promise.resolve()).then(async () => {
        await task.onBlock!(m.block);
        // onBlock copied what it keeps: the block goes back to be read into again.
        const block = m.block.block;
        slot.worker.postMessage({ kind: 'credit', block }, block.byteLength > 0 ? [block] : []);
      });
      // A consumer that failed will never ack again: the worker would wait forever, so retire it.
      task.chain.catch((err: Error) => {
        if (slot.busy !== task) return;
        slot.busy = undefined;
        this.slots.splice(this.slots.indexOf(slot), 1);
        void slot.worker.terminate();
        task.reject(err);
        if (this.slots.length === 0) for (const queued of this.queue.splice(0)) queued.reject(err);
        this.dispatch();
      });
      return;
    }
    const chain = task.chain ?? Promise.resolve();
    if (m.kind === 'error') {
      const err = Object.assign(new Error(m.message), { code: m.code });
      void chain.then(
        () => this.finish(slot, () => task.reject(err)),
        () => undefined,
      );
      return;
    }
    void chain.then(
      () => this.finish(slot, () => task.resolve(m.result)),
      () => undefined, // handled where the block failed
    );
  }

  private finish(slot: Slot, settle: () => void): void {
    slot.busy = undefined;
    settle();
    this.dispatch();
  }

  private onCrash(slot: Slot, err: Error): void {
    this.failure = fail('E_INTERNAL', `a file worker crashed: ${err.message}`);
    slot.busy?.reject(this.failure);
    slot.busy = undefined;
    for (const task of this.queue.splice(0)) task.reject(this.failure);
  }
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
    return fail('E_BAD_REQUEST', `cannot read ${JSON.stringify(path)}: ${e.code}`, { local: path });
  }
  return err as Error;
}
