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
  | { id: number; kind: 'read'; files: PackedReadRequest; params: ChunkerParams }
  | { id: number; kind: 'chunk'; path: string; params: ChunkerParams }
  | { id: number; kind: 'write'; batch: WriteBatch };

/**
 * Not tasks: a block (or small-file batch buffer) returned to be read into again, with a credit for
 * a chunk task (and that block's spanning-chunk buffers) or without.
 */
export type WorkerNotice = { kind: 'credit'; block?: ArrayBuffer; spanning?: ArrayBuffer[] } | { kind: 'recycle'; block: ArrayBuffer };

export type WorkerReply =
  | { id: number; kind: 'done'; result: unknown }
  | { id: number; kind: 'block'; block: ChunkBlock }
  | { id: number; kind: 'error'; code: string | undefined; message: string };
