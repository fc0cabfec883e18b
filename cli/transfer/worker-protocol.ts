/**
 * The messages between FilePool (main thread) and file-worker.ts, apart from both so that a
 * worker loads only what it runs (type imports are erased; this module has no dependencies).
 */
import type { ChunkerParams } from '../../src/chunking/index.js';
import type { ChunkBlock } from './file-tasks.js';
import type { PackedReadRequest } from './read-packing.js';
import type { WriteBatch } from './write-tasks.js';

/** Blocks a chunk task may send before the main thread has taken them (memory: this x 4 MiB). */
export const CHUNK_BLOCKS_AHEAD = 3;

export type TaskRequest =
  | { id: number; kind: 'stat'; paths: string[] }
  | { id: number; kind: 'scan'; dir: string }
  /** `recycle`: at most one earlier batch's buffer, to be read into again (sent with a task: one message less each). */
  | { id: number; kind: 'read'; files: PackedReadRequest; params: ChunkerParams; recycle?: ArrayBuffer[] }
  | { id: number; kind: 'chunk'; path: string; params: ChunkerParams }
  | { id: number; kind: 'write'; batch: WriteBatch };

/** Not a task: a credit for a chunk task, with the block (and its spanning chunks' buffers) to read into again. */
export type WorkerNotice = { kind: 'credit'; block?: ArrayBuffer; spanning?: ArrayBuffer[] };

export type WorkerReply =
  | { id: number; kind: 'done'; result: unknown }
  | { id: number; kind: 'block'; block: ChunkBlock }
  | { id: number; kind: 'error'; code: string | undefined; message: string };
