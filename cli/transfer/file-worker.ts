/**
 * Worker-thread entry of FilePool: runs file-tasks.ts functions one task at a time and posts the
 * results back, transferring buffers instead of copying them. A chunk task streams blocks and may
 * run at most CHUNK_BLOCKS_AHEAD blocks ahead of the main thread's acknowledgements.
 */
import { parentPort } from 'node:worker_threads';
import type { ChunkBlock } from './file-tasks.js';
import { packReadResult, readResultTransfer, unpackReadRequest } from './read-packing.js';
import { scanTree, statFiles } from './scan-tasks.js';
import { CHUNK_BLOCKS_AHEAD, type TaskRequest, type WorkerNotice, type WorkerReply } from './worker-protocol.js';

// Loaded on first use: a scan starts before chunking, hashing and writing are compiled.
let fileTasks: typeof import('./file-tasks.js') | undefined;
const loadFileTasks = async () => (fileTasks ??= await import('./file-tasks.js'));
const loadWriteTasks = () => import('./write-tasks.js');

const port = parentPort!;
const queue: TaskRequest[] = [];
let running = false;
let credits = CHUNK_BLOCKS_AHEAD;
let wakeOnCredit: (() => void) | undefined;

const reply = (message: WorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

port.on('message', (message: TaskRequest | WorkerNotice) => {
  if (message.kind === 'credit') {
    for (const block of [message.block, ...(message.spanning ?? [])]) if (block) fileTasks?.recycleBlock(block);
    credits++;
    wakeOnCredit?.();
    wakeOnCredit = undefined;
    return;
  }
  queue.push(message);
  if (!running) void drain();
});

async function drain(): Promise<void> {
  running = true;
  while (queue.length > 0) await run(queue.shift()!);
  running = false;
}

async function run(task: TaskRequest): Promise<void> {
  try {
    if (task.kind === 'stat') {
      const stats = statFiles(task.paths);
      reply({ id: task.id, kind: 'done', result: stats }, [stats.buffer as ArrayBuffer]);
    } else if (task.kind === 'scan') {
      const scan = scanTree(task.dir);
      reply({ id: task.id, kind: 'done', result: scan }, [scan.stats.buffer as ArrayBuffer]);
    } else if (task.kind === 'read') {
      const tasks = await loadFileTasks();
      for (const buffer of task.recycle ?? []) tasks.recycleBlock(buffer);
      const result = packReadResult(tasks.readSmallFiles(unpackReadRequest(task.files), task.params));
      reply({ id: task.id, kind: 'done', result }, readResultTransfer(result));
    } else if (task.kind === 'write') {
      const result = { ...(await loadWriteTasks()).writeSmallFiles(task.batch), buffer: task.batch.buffer };
      reply({ id: task.id, kind: 'done', result }, [task.batch.buffer]);
    } else {
      credits = CHUNK_BLOCKS_AHEAD;
      const result = await (await loadFileTasks()).chunkFile(task.path, task.params, async (block: ChunkBlock) => {
        while (credits === 0) await new Promise<void>((resolve) => (wakeOnCredit = resolve));
        credits--;
        reply({ id: task.id, kind: 'block', block }, [block.block, ...block.spanning]);
      });
      reply({ id: task.id, kind: 'done', result });
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    reply({ id: task.id, kind: 'error', code: e.code, message: e.message ?? String(err) });
  }
}
