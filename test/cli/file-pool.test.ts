import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilePool, INLINE_BYTES } from '../../cli/transfer/file-pool.js';
import { chunkFile, readSmallFiles, type ChunkBlock, type ReadBatchResult } from '../../cli/transfer/file-tasks.js';
import { statFiles } from '../../cli/transfer/scan-tasks.js';
import { DEFAULT_CHUNKER_PARAMS } from '../../src/chunking/index.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

let dir: string;
let pool: FilePool;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'datactl-file-pool-'));
  pool = new FilePool(2);
});
afterEach(async () => {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
});

/** Each block's chunk list, which is all a consumer sees besides the bytes. */
async function chunkList(run: (onBlock: (b: ChunkBlock) => Promise<void>) => Promise<unknown>): Promise<unknown[]> {
  const seen: unknown[] = [];
  await run(async (b) => void seen.push(b.chunks.map((c) => c.size)));
  return seen;
}

describe('file pool: workers start with the first task that needs them', () => {
  it('stats, reads and chunks a few small files on this thread, with the same results, and starts no worker', async () => {
    const files = ['a.txt', 'b.txt'].map((name) => path.join(dir, name));
    await writeFile(files[0]!, 'alpha\n');
    await writeFile(files[1]!, seededBytes(3, 200_000));
    const requests = [{ path: files[0]!, size: 6 }];

    expect(await pool.stat(files)).toEqual(statFiles(files));
    const batch = await pool.readSmall(requests, DEFAULT_CHUNKER_PARAMS);
    expect(batch.files).toEqual(readSmallFiles(requests, DEFAULT_CHUNKER_PARAMS).files);
    const inline = await chunkList((onBlock) => chunkFile(files[1]!, DEFAULT_CHUNKER_PARAMS, onBlock, true));
    expect(await chunkList((onBlock) => pool.chunk(files[1]!, 200_000, DEFAULT_CHUNKER_PARAMS, onBlock))).toEqual(inline);

    expect(pool.workers).toBe(2);
    expect(pool.running).toBe(0);
  });

  it('starts its workers for a directory scan, and runs every later task on them', async () => {
    await mkdir(path.join(dir, 'sub'));
    await writeFile(path.join(dir, 'sub', 'x.txt'), 'x');
    const scan = await pool.scan(dir);
    expect(scan.paths).toBe('sub/x.txt');
    expect(pool.running).toBe(2);
    const requests = [{ path: path.join(dir, 'sub', 'x.txt'), size: 1 }];
    const batch = await pool.readSmall(requests, DEFAULT_CHUNKER_PARAMS);
    expect(batch.files[0]).toMatchObject({ size: 1 });
  });

  it('starts its workers for a file larger than it chunks inline, and cuts it the same', async () => {
    const big = path.join(dir, 'big.bin');
    await writeFile(big, seededBytes(5, INLINE_BYTES + 1));
    const inline = await chunkList((onBlock) => chunkFile(big, DEFAULT_CHUNKER_PARAMS, onBlock, true));
    expect(await chunkList((onBlock) => pool.chunk(big, INLINE_BYTES + 1, DEFAULT_CHUNKER_PARAMS, onBlock))).toEqual(inline);
    expect(pool.running).toBe(2);
  });

  it('sends a batch buffer given back with the next read, and the worker reads that batch into it', async () => {
    const solo = new FilePool(1);
    try {
      await solo.scan(dir); // starts the worker
      const [a, b] = [path.join(dir, 'a.bin'), path.join(dir, 'b.txt')];
      await writeFile(a, Buffer.alloc(50_000, 0x41));
      await writeFile(b, 'short');
      const first = await solo.readSmall([{ path: a, size: 50_000 }], DEFAULT_CHUNKER_PARAMS);
      solo.recycle(first.buffer);
      expect(first.buffer.byteLength).toBeGreaterThan(0); // kept until a read can carry it
      const second = await solo.readSmall([{ path: b, size: 5 }], DEFAULT_CHUNKER_PARAMS);
      expect(first.buffer.byteLength).toBe(0); // transferred with that read
      const f = second.files[0]!;
      expect(Buffer.from(second.buffer, f.offset, f.size).toString()).toBe('short');
      // Past the new file, the first batch's bytes are still there: the same memory, read into again.
      expect(Buffer.from(second.buffer, f.offset + f.size, 50_000 - f.size).every((x) => x === 0x41)).toBe(true);
    } finally {
      await solo.close();
    }
  });

  it('gives back one buffer with each read, keeping the rest for later reads (all at once piled them on one worker)', async () => {
    await pool.scan(dir); // starts both workers
    const file = path.join(dir, 'f.txt');
    await writeFile(file, 'x');
    const batches: ReadBatchResult[] = [];
    for (let i = 0; i < 3; i++) batches.push(await pool.readSmall([{ path: file, size: 1 }], DEFAULT_CHUNKER_PARAMS));
    for (const b of batches) pool.recycle(b.buffer);
    const attached = () => batches.filter((b) => b.buffer.byteLength > 0).length;
    expect(attached()).toBe(3);
    await pool.readSmall([{ path: file, size: 1 }], DEFAULT_CHUNKER_PARAMS);
    expect(attached()).toBe(2);
    await pool.readSmall([{ path: file, size: 1 }], DEFAULT_CHUNKER_PARAMS);
    expect(attached()).toBe(1);
  });

  it('stops its workers on close, and starts them again for the next task that needs them', async () => {
    await writeFile(path.join(dir, 'x.txt'), 'x');
    await pool.scan(dir);
    expect(pool.running).toBe(2);
    await pool.close();
    expect(pool.running).toBe(0);
    const scan = await pool.scan(dir); // a put retried after its reads were done
    expect(scan.paths).toBe('x.txt');
    expect(pool.running).toBe(2);
  });

  it('runs everything inline with no workers asked for', async () => {
    const none = new FilePool(0);
    try {
      await none.scan(dir);
      expect(none.workers).toBe(0);
      expect(none.running).toBe(0);
    } finally {
      await none.close();
    }
  });
});
