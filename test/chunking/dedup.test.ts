/**
 * What content-defined chunking is for: an edit changes only the chunks around it, so a new
 * version of a large file shares almost all chunks with the old one.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHUNKER_PARAMS, FileChunker, type ChunkerParams } from '../../src/chunking/index.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

function chunkHashes(data: Uint8Array, params: ChunkerParams = DEFAULT_CHUNKER_PARAMS): string[] {
  const chunker = new FileChunker(params);
  return [...chunker.push(data), ...chunker.finish()].map((c) => c.hash);
}

/** How many chunks of `edited` are new, and how many of the original's chunks it still shares. */
function compare(original: string[], edited: string[]): { added: number; shared: number } {
  const before = new Set(original);
  const after = new Set(edited);
  return { added: edited.filter((h) => !before.has(h)).length, shared: original.filter((h) => after.has(h)).length };
}

describe('boundary-shift resistance on a 64 MiB file (default params)', () => {
  const SIZE = 64 << 20;
  const MIDDLE = SIZE / 2 + 12_345;
  let file: Buffer;
  let original: string[];
  const insert = (bytes: Uint8Array) => Buffer.concat([file.subarray(0, MIDDLE), bytes, file.subarray(MIDDLE)]);

  beforeAll(() => {
    file = seededBytes(64, SIZE);
    original = chunkHashes(file);
    expect(original.length).toBeGreaterThan(40);
  });

  it("inserting a few bytes in the middle replaces at most 3 of the file's chunks", () => {
    const r = compare(original, chunkHashes(insert(Buffer.from('hello'))));
    expect(r.added).toBeLessThanOrEqual(3);
    expect(r.shared).toBeGreaterThanOrEqual(original.length - 3);
  });

  it("deleting a few bytes in the middle replaces at most 3 of the file's chunks", () => {
    const r = compare(original, chunkHashes(Buffer.concat([file.subarray(0, MIDDLE), file.subarray(MIDDLE + 7)])));
    expect(r.added).toBeLessThanOrEqual(3);
    expect(r.shared).toBeGreaterThanOrEqual(original.length - 3);
  });

  it("inserting 100 KB in the middle replaces at most 4 of the file's chunks", () => {
    const r = compare(original, chunkHashes(insert(seededBytes(100, 100_000))));
    expect(r.added).toBeLessThanOrEqual(4);
    expect(r.shared).toBeGreaterThanOrEqual(original.length - 4);
  });

  it('flipping one byte near the start changes exactly the first chunk', () => {
    const edited = Buffer.from(file);
    edited[1000] = edited[1000]! ^ 0xff;
    const r = compare(original, chunkHashes(edited));
    expect(r).toEqual({ added: 1, shared: original.length - 1 });
  });
});

describe('average chunk size on random data', () => {
  for (const [name, params, size] of [
    ['default params (64 MiB)', DEFAULT_CHUNKER_PARAMS, 64 << 20],
    ['min 2 KiB / avg 8 KiB / max 32 KiB (8 MiB)', { minSize: 2048, avgSize: 8192, maxSize: 32768 }, 8 << 20],
  ] as const) {
    it(`stays within 0.6x-1.6x of avgSize for ${name}`, () => {
      const chunker = new FileChunker(params);
      const sizes = [...chunker.push(seededBytes(77, size)), ...chunker.finish()].map((c) => c.size).slice(0, -1);
      const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
      expect(mean / params.avgSize).toBeGreaterThan(0.6);
      expect(mean / params.avgSize).toBeLessThan(1.6);
    });
  }
});
