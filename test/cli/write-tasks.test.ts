/** writeSmallFiles, the worker half of a tree download: verify, then create or replace each file. */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilePool } from '../../cli/transfer/file-pool.js';
import { writeSmallFiles, type WriteBatch } from '../../cli/transfer/write-tasks.js';
import { blake3Hex, EMPTY_HASH } from '../../src/hash/blake3.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'datactl-write-tasks-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A batch of one-chunk files (empty ones with no chunks), laid out as get-tree.ts does. */
function batchOf(files: Array<[string, string]>, damage?: number): WriteBatch {
  const parts = files.map(([, text]) => Buffer.from(text));
  const buffer = Buffer.concat(parts);
  if (damage !== undefined) buffer[damage] ^= 1;
  const hashes = parts.map((p) => (p.length === 0 ? EMPTY_HASH : blake3Hex(p)));
  return {
    buffer: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer,
    paths: files.map(([name]) => path.join(dir, name)).join('\0'),
    files: Float64Array.from(parts.flatMap((p) => [p.length, p.length === 0 ? 0 : 1])),
    hashes: hashes.join(''),
    chunkHashes: hashes.filter((_, i) => parts[i]!.length > 0).join(''),
    chunkSizes: Float64Array.from(parts.filter((p) => p.length > 0).map((p) => p.length)),
    fsync: false,
  };
}

describe('writing a batch in a worker thread', () => {
  it('hands the batch buffer back, so the next batch can be laid out in it', async () => {
    const pool = new FilePool(1);
    try {
      const batch = batchOf([['a.txt', 'alpha\n'], ['b.txt', 'beta\n']]);
      const size = batch.buffer.byteLength;
      const result = await pool.writeSmall(batch);
      expect(result.written).toBe(2);
      expect(batch.buffer.byteLength).toBe(0); // moved to the worker, not copied
      expect(result.buffer?.byteLength).toBe(size);
      expect(Buffer.from(result.buffer!).toString()).toBe('alpha\nbeta\n');
    } finally {
      await pool.close();
    }
  });
});

describe('writeSmallFiles', () => {
  it('writes nothing for an empty batch', () => {
    expect(writeSmallFiles(batchOf([]))).toEqual({ written: 0 });
  });

  it('checks each file against its own hashes, where several files with several chunks lie back to back', async () => {
    const text = ['one', 'two, longer', 'three'];
    const chunks = [['o', 'ne'], ['two, ', 'longer'], ['three']];
    const flat = chunks.flat();
    const buffer = Buffer.from(text.join(''));
    const batch: WriteBatch = {
      buffer: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer,
      paths: text.map((_, i) => path.join(dir, `f${i}`)).join('\0'),
      files: Float64Array.from(text.flatMap((t, i) => [t.length, chunks[i]!.length])),
      hashes: text.map((t) => blake3Hex(t)).join(''),
      chunkHashes: flat.map((c) => blake3Hex(c)).join(''),
      chunkSizes: Float64Array.from(flat.map((c) => c.length)),
      fsync: false,
    };
    expect(writeSmallFiles(batch)).toEqual({ written: 3 });
    for (const [i, t] of text.entries()) expect(await readFile(path.join(dir, `f${i}`), 'utf8')).toBe(t);
    // The second file's second chunk named with the third file's hash: caught, at that file.
    const wrong = { ...batch, chunkHashes: [...flat.slice(0, 3), 'three', 'three'].map((c) => blake3Hex(c)).join('') };
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    expect(writeSmallFiles(wrong)).toMatchObject({ written: 1, error: { index: 1, code: 'corrupt', chunk: blake3Hex('three') } });
  });

  it('creates new files, replaces existing ones whole, and leaves no temp files', async () => {
    await writeFile(path.join(dir, 'b.txt'), 'the old, longer content of b\n');
    const result = writeSmallFiles(batchOf([['a.txt', 'alpha\n'], ['b.txt', 'beta\n'], ['empty', '']]));
    expect(result).toEqual({ written: 3 });
    expect(await readFile(path.join(dir, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(await readFile(path.join(dir, 'b.txt'), 'utf8')).toBe('beta\n');
    expect(await readFile(path.join(dir, 'empty'), 'utf8')).toBe('');
    expect((await readdir(dir)).sort()).toEqual(['a.txt', 'b.txt', 'empty']);
  });

  it('never writes a file whose bytes do not match, and stops there', async () => {
    const result = writeSmallFiles(batchOf([['a.txt', 'alpha\n'], ['b.txt', 'beta\n'], ['c.txt', 'gamma\n']], 8));
    expect(result).toMatchObject({ written: 1, error: { index: 1, code: 'corrupt', message: expect.stringMatching(/^chunk 0 hashes to [0-9a-f]{64}, expected/) } });
    expect(await readdir(dir)).toEqual(['a.txt']);
  });

  it('reports a write failure with its errno code, leaving nothing of that file', async () => {
    const result = writeSmallFiles(batchOf([['a.txt', 'alpha\n'], [path.join('missing-dir', 'b.txt'), 'beta\n']]));
    expect(result).toMatchObject({ written: 1, error: { index: 1, code: 'ENOENT' } });
    expect(await readdir(dir)).toEqual(['a.txt']);
  });

  it('rejects a manifest whose file hash disagrees with its one verified chunk', () => {
    const batch = batchOf([['a.txt', 'alpha\n']]);
    batch.hashes = blake3Hex('something else');
    expect(writeSmallFiles(batch)).toMatchObject({ written: 0, error: { code: 'corrupt', message: expect.stringContaining('content hashes to') } });
  });
});
