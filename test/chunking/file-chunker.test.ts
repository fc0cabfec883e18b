import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import { EMPTY_HASH, blake3Hex } from '../../src/hash/blake3.js';
import { DEFAULT_CHUNKER_PARAMS, FileChunker, chunkSource, type Chunk, type ChunkerParams } from '../../src/chunking/index.js';
import { seededBytes, seededStream } from '../helpers/seeded-bytes.js';

const SMALL: ChunkerParams = { minSize: 2048, avgSize: 8192, maxSize: 32768 };

interface Summary {
  sizes: number[];
  hashes: string[];
  hash: string;
}

/** Pushes `data` in pieces of the given sizes (cycled), checking each chunk's bytes as it arrives. */
function chunkInPieces(data: Uint8Array, params: ChunkerParams, pieceSizes: number[] = [data.length]): Summary {
  const chunker = new FileChunker(params);
  const all: Chunk[] = [];
  const check = (batch: Chunk[]) => {
    // The bytes must still be right after push() returns, not only while it runs.
    for (const c of batch) expect(blake3Hex(c.bytes)).toBe(c.hash);
    all.push(...batch);
  };
  for (let at = 0, k = 0; at < data.length; k++) {
    const piece = data.subarray(at, at + pieceSizes[k % pieceSizes.length]!);
    check(chunker.push(piece));
    at += piece.length;
  }
  check(chunker.finish());
  return { sizes: all.map((c) => c.size), hashes: all.map((c) => c.hash), hash: chunker.contentHash() };
}

describe('FileChunker golden vectors (any change to the algorithm must fail here)', () => {
  it('seeded input is itself frozen', () => {
    expect(seededBytes(1, 16).toString('hex')).toBe('6bf9a0969083bc1264991e97e7c7ad79');
    expect(blake3Hex(seededBytes(1, 16 << 20))).toBe('0f3408b4b040704271c34d8dc175aa8983d07c5cabea748b7dc1208ac17854d9');
  });

  it('16 MiB of seed 1 with default params', () => {
    const r = chunkInPieces(seededBytes(1, 16 << 20), DEFAULT_CHUNKER_PARAMS);
    expect(r.sizes).toEqual([
      1170912, 1079537, 1355178, 589728, 1414039, 1186520, 1443819, 1140474, 1290967, 1067723, 1684942, 1096981,
      1333085, 923311,
    ]);
    expect(r.hashes.slice(0, 3)).toEqual([
      '6ca15d1c7d7f644d463fd05c89fd9912bc8b84a39a03de825b4f6a638458ab03',
      'e34703bfc7b9ad1e0d5b2ec5cc7549b84a2d6c53924c3360326af819456a049b',
      '998afbedb1b655fd00e5d8824a123a94a8d60afcefb3f381d1a3ce887891e6d5',
    ]);
    expect(r.hash).toBe('0f3408b4b040704271c34d8dc175aa8983d07c5cabea748b7dc1208ac17854d9');
  });

  it('512 KiB of seed 2 with min 2 KiB / avg 8 KiB / max 32 KiB', () => {
    const r = chunkInPieces(seededBytes(2, 512 << 10), SMALL);
    expect(r.sizes).toEqual([
      9912, 8844, 9806, 11653, 10557, 11055, 10286, 11478, 2966, 2286, 8937, 11627, 9108, 2866, 10479, 8844, 8924, 10537,
      9353, 12546, 3720, 11687, 7239, 9515, 8586, 4401, 8554, 8236, 10353, 15990, 13025, 10779, 8336, 8588, 11685, 11210,
      13922, 9067, 11171, 9715, 10219, 10808, 13197, 2108, 9023, 8406, 9139, 11234, 9272, 8940, 8603, 8486, 5155, 10063,
      9515, 11396, 881,
    ]);
    expect(r.hashes.slice(0, 3)).toEqual([
      '5a93833084719ae4ba5cc32cbfb8826672e4597ea7899b9ab454186a32bfa1e2',
      '01f9229c51fbc34846d4de24a36393fa9fa1293dee9b071e2b675da03b1a0c20',
      'f6a5020c5bc1c807bb2e7ac246c9ccb179f69a813a1a485c9bf86d9fbfac6372',
    ]);
  });
});

describe('FileChunker', () => {
  it('gives the same chunks however the file is split into pushes', () => {
    const data = seededBytes(3, 300_000);
    const whole = chunkInPieces(data, SMALL);
    expect(chunkInPieces(data, SMALL, [1])).toEqual(whole);
    expect(chunkInPieces(data, SMALL, [3, 1, 8191, 32769, 77, 65536, 2048])).toEqual(whole);
    expect(chunkInPieces(data, SMALL, [SMALL.maxSize])).toEqual(whole);

    const big = seededBytes(4, 12 << 20);
    const bigWhole = chunkInPieces(big, DEFAULT_CHUNKER_PARAMS);
    expect(chunkInPieces(big, DEFAULT_CHUNKER_PARAMS, [65536])).toEqual(bigWhole);
    expect(chunkInPieces(big, DEFAULT_CHUNKER_PARAMS, [999_983, 4_194_305, 1])).toEqual(bigWhole);
  });

  it('keeps every chunk within [minSize, maxSize] except the last, with sizes summing to the file size', () => {
    for (const [params, data] of [
      [SMALL, seededBytes(5, 2 << 20)],
      [SMALL, new Uint8Array(100_000)], // no content cut anywhere: every chunk is forced at maxSize
      [DEFAULT_CHUNKER_PARAMS, seededBytes(6, 20 << 20)],
    ] as const) {
      const { sizes } = chunkInPieces(data, params, [100_003]);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(data.length);
      for (const s of sizes.slice(0, -1)) {
        expect(s).toBeGreaterThanOrEqual(params.minSize);
        expect(s).toBeLessThanOrEqual(params.maxSize);
      }
      expect(sizes.at(-1)!).toBeGreaterThan(0);
      expect(sizes.at(-1)!).toBeLessThanOrEqual(params.maxSize);
    }
  });

  it('reports offsets, sizes and bytes that match the file', () => {
    const data = seededBytes(7, 200_000);
    const chunker = new FileChunker(SMALL);
    let expectedOffset = 0;
    const pieces = [50_000, 50_000, 100_000];
    for (const c of [...pieces.flatMap((len, k) => chunker.push(data.subarray(k * 50_000, k * 50_000 + len))), ...chunker.finish()]) {
      expect(c.offset).toBe(expectedOffset);
      expect(c.size).toBe(c.bytes.length);
      expect(c.hash).toBe(blake3Hex(data.subarray(c.offset, c.offset + c.size)));
      expectedOffset += c.size;
    }
    expect(expectedOffset).toBe(data.length);
    expect(chunker.size).toBe(data.length);
  });

  it('returns a chunk that lies inside one pushed buffer as a view of that buffer, without copying', () => {
    const data = seededBytes(8, 200_000);
    const chunker = new FileChunker(SMALL);
    const chunks = chunker.push(data);
    expect(chunks.length).toBeGreaterThan(5);
    for (const c of chunks) {
      expect(c.bytes.buffer === data.buffer, 'chunk is a view of the pushed buffer').toBe(true);
      expect(c.bytes.byteOffset).toBe(data.byteOffset + c.offset);
    }
    const last = chunker.finish();
    expect(last).toHaveLength(1);
    expect(last[0]!.bytes.buffer === data.buffer, 'last chunk is a view of the pushed buffer').toBe(true);
  });

  it('counts pushed bytes in size and ignores empty pushes', () => {
    const chunker = new FileChunker(SMALL);
    expect(chunker.size).toBe(0);
    expect(chunker.push(new Uint8Array(0))).toEqual([]);
    chunker.push(seededBytes(9, 1000));
    expect(chunker.push(new Uint8Array(0))).toEqual([]);
    expect(chunker.size).toBe(1000);
    expect(chunker.finish().map((c) => c.size)).toEqual([1000]);
  });

  it('produces no chunks for an empty file, whose hash is BLAKE3("")', () => {
    const chunker = new FileChunker();
    expect(chunker.finish()).toEqual([]);
    expect(chunker.size).toBe(0);
    expect(chunker.contentHash()).toBe(EMPTY_HASH);
    expect(EMPTY_HASH).toBe('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
  });

  it('makes a file shorter than minSize one chunk whose hash is the file hash', () => {
    const data = seededBytes(10, 1000);
    const r = chunkInPieces(data, SMALL, [10]);
    expect(r.sizes).toEqual([1000]);
    expect(r.hashes).toEqual([r.hash]);
  });

  it('refuses contentHash() before finish() and push()/finish() after it', () => {
    const chunker = new FileChunker(SMALL);
    expect(() => chunker.contentHash()).toThrow(DatactlError);
    chunker.finish();
    expect(() => chunker.push(new Uint8Array(1))).toThrow(/after finish/);
    expect(() => chunker.finish()).toThrow(/after finish/);
  });
});

describe('chunkSource', () => {
  it('summarizes a stream and hands each chunk to onChunk while its bytes are valid', async () => {
    const data = seededBytes(20, 400_000);
    const seen: Array<[string, number, number]> = [];
    const summary = await chunkSource(seededStream(20, 400_000, 12_345), SMALL, async (c) => {
      await Promise.resolve();
      expect(blake3Hex(c.bytes)).toBe(c.hash);
      seen.push([c.hash, c.size, c.offset]);
    });
    const expected = chunkInPieces(data, SMALL);
    expect(summary.size).toBe(data.length);
    expect(summary.hash).toBe(blake3Hex(data));
    expect(summary.chunks).toEqual(expected.hashes.map((h, i) => [h, expected.sizes[i]]));
    expect(seen.map(([h, s]) => [h, s])).toEqual(summary.chunks);
    expect(seen.map(([, , o]) => o)).toEqual(expected.sizes.map((_, i) => expected.sizes.slice(0, i).reduce((a, b) => a + b, 0)));
  });

  it('summarizes an empty stream as size 0, hash BLAKE3(""), no chunks', async () => {
    expect(await chunkSource(seededStream(1, 0, 10), SMALL)).toEqual({ size: 0, hash: EMPTY_HASH, chunks: [] });
  });
});

const B3SUM = ['/usr/bin/b3sum', '/usr/local/bin/b3sum'].find((p) => existsSync(p));

describe('content hash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'datactl-chunker-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!B3SUM)(`equals b3sum output for a file${B3SUM ? '' : ' (skipped: b3sum is not installed)'}`, async () => {
    const file = join(dir, 'seeded.bin');
    writeFileSync(file, seededBytes(21, (5 << 20) + 123));
    const expected = execFileSync(B3SUM!, ['--no-names', file], { encoding: 'utf8' }).trim();
    const summary = await chunkSource(createReadStream(file, { highWaterMark: 100_000 }), DEFAULT_CHUNKER_PARAMS);
    expect(summary.hash).toBe(expected);
    expect(summary.size).toBe((5 << 20) + 123);
  });
});
