import { describe, expect, it } from 'vitest';
import { EMPTY_HASH, blake3Hex } from '../../src/hash/blake3.js';
import type { ChunkHash } from '../../src/types.js';
import type { ReadBatchResult } from '../../cli/transfer/file-tasks.js';
import { packReadRequest, packReadResult, readResultTransfer, unpackReadRequest, unpackReadResult } from '../../cli/transfer/read-packing.js';

const h = (s: string) => blake3Hex(Buffer.from(s));

describe('small-file reads between threads, packed', () => {
  it('carry the requests whole: every path (spaces, non-ASCII) with its size, in order', () => {
    const files = [{ path: '/d/a b.csv', size: 3 }, { path: '/d/ü/ñ.json', size: 0 }, { path: 'rel/x', size: 4096 }];
    const packed = packReadRequest(files);
    expect(typeof packed.paths).toBe('string');
    expect(unpackReadRequest(packed)).toEqual(files);
    expect(unpackReadRequest(packReadRequest([]))).toEqual([]);
  });

  it('refuse a request whose paths do not match its sizes (a NUL in a path would shift every path after it)', () => {
    expect(() => unpackReadRequest(packReadRequest([{ path: 'a\0b', size: 1 }]))).toThrow(/1 files carried 2 paths/);
  });

  it('carry the results whole: spans and hashes of every file, and the chunk lists, own buffers and errors of the few that have them', () => {
    const own = new Uint8Array([7, 8, 9]).buffer;
    const result: ReadBatchResult = {
      buffer: new ArrayBuffer(16),
      files: [
        { offset: 0, size: 3, hash: h('abc') },
        { offset: 3, size: 10, hash: h('big'), chunks: [[h('b1'), 4], [h('b2'), 6]] as Array<[ChunkHash, number]> },
        { offset: 0, size: 3, hash: h('grew'), own },
        { offset: 13, size: 0, hash: EMPTY_HASH, error: 'ENOENT: no such file' },
        { offset: 13, size: 2, hash: h('xy') },
      ],
    };
    const packed = packReadResult(result);
    expect(packed.rare.map((r) => r.index)).toEqual([1, 2, 3]);
    expect(readResultTransfer(packed)).toEqual([result.buffer, packed.spans.buffer, own]);
    expect(unpackReadResult(packed)).toEqual(result);
  });

  it('refuse a result whose hash is not 64 characters (the hashes would run into each other)', () => {
    expect(() => packReadResult({ buffer: new ArrayBuffer(0), files: [{ offset: 0, size: 1, hash: 'abc' as ChunkHash }] })).toThrow(/64-hex/);
  });
});
