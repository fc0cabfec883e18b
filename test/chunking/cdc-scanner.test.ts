import { describe, expect, it } from 'vitest';
import { CdcScanner, DEFAULT_CHUNKER_PARAMS, GEAR, type ChunkerParams } from '../../src/chunking/index.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

const SMALL: ChunkerParams = { minSize: 2048, avgSize: 8192, maxSize: 32768 };

/**
 * docs/chunker.md transcribed as plainly as possible (uint32 arithmetic, one byte at a time, whole
 * input at once, masks from the formula): the optimized scanner must agree with it exactly.
 * Returns the end offset of every chunk, including the last partial one.
 */
function referenceChunkEnds(data: Uint8Array, p: ChunkerParams): number[] {
  const bits = Math.log2(p.avgSize);
  const highBits = (k: number) => (2 ** 32 - 2 ** (32 - k)) >>> 0;
  const strict = highBits(bits + 2);
  const loose = highBits(bits - 2);
  const ends: number[] = [];
  let start = 0;
  while (start < data.length) {
    let h = 0;
    let end = data.length;
    for (let len = 1; start + len <= data.length; len++) {
      if (len > p.minSize - 32) h = ((h << 1) + (GEAR[data[start + len - 1]!]! >>> 0)) >>> 0;
      const mask = len < p.avgSize ? strict : loose;
      if (len === p.maxSize || (len >= p.minSize && (h & mask) >>> 0 === 0)) {
        end = start + len;
        break;
      }
    }
    ends.push(end);
    start = end;
  }
  return ends;
}

/** The scanner's cuts are the reference's chunk ends, minus the final partial chunk's end. */
function expectReferenceCuts(data: Uint8Array, p: ChunkerParams): number[] {
  const cuts = new CdcScanner(p).scan(data);
  const ends = referenceChunkEnds(data, p);
  expect(cuts).toEqual(ends.slice(0, cuts.length));
  expect(ends.slice(cuts.length)).toEqual(cuts.at(-1) === data.length ? [] : [data.length]);
  return cuts;
}

/** Gear hash (uint32) of exactly these bytes, oldest first. */
function gearHash(bytes: Uint8Array): number {
  let h = 0;
  for (const b of bytes) h = ((h << 1) + (GEAR[b]! >>> 0)) >>> 0;
  return h;
}

/** The first seeded 32-byte window whose gear hash satisfies `accept`. */
function findWindow(accept: (h: number, window: Uint8Array) => boolean): Uint8Array {
  for (let seed = 1; ; seed++) {
    const window = seededBytes(seed, 32);
    if (accept(gearHash(window), window)) return window;
  }
}

/** zeros | window | zeros, with the window ending at `windowEnd`. Zeros alone never cut (GEAR[0] * (2^32 - 1) fails both masks). */
function zerosAround(window: Uint8Array, windowEnd: number, total: number): Uint8Array {
  const data = new Uint8Array(total);
  data.set(window, windowEnd - window.length);
  return data;
}

/** Feeds `data` to a scanner in pieces of the given sizes (cycled); returns absolute cut offsets. */
function scanInPieces(data: Uint8Array, p: ChunkerParams, pieceSizes: number[]): number[] {
  const scanner = new CdcScanner(p);
  const cuts: number[] = [];
  for (let at = 0, k = 0; at < data.length; k++) {
    const piece = data.subarray(at, at + pieceSizes[k % pieceSizes.length]!);
    for (const cut of scanner.scan(piece)) cuts.push(at + cut);
    at += piece.length;
  }
  return cuts;
}

describe('CdcScanner', () => {
  it('finds exactly the cut points of the plain reference implementation of the spec', () => {
    const cuts = expectReferenceCuts(seededBytes(11, 3 << 20), SMALL);
    expect(cuts.length).toBeGreaterThan(200);
  });

  it('agrees with the reference on inputs that hit the bounds: zeros (cut at every maxSize) and a two-symbol alphabet', () => {
    const zeros = new Uint8Array(200_000);
    expect(expectReferenceCuts(zeros, SMALL)).toEqual([1, 2, 3, 4, 5, 6].map((k) => k * SMALL.maxSize));
    expectReferenceCuts(seededBytes(12, 500_000).map((b) => b & 1), SMALL);
  });

  describe('exact bounds (small params: strict mask 15 high bits, loose mask 11)', () => {
    const strict = 0xfffe0000;
    const loose = 0xffe00000;

    it('judges the first eligible cut, at minSize, on a full window that includes byte minSize-32', () => {
      // GEAR[w0] odd: byte minSize-32 flips bit 31 of h, so a 31-byte window would not cut here.
      const window = findWindow((h, w) => (h & strict) >>> 0 === 0 && (GEAR[w[0]!]! & 1) === 1);
      const data = zerosAround(window, SMALL.minSize, 40_000);
      expect(expectReferenceCuts(data, SMALL)[0]).toBe(SMALL.minSize);
    });

    it('never cuts before minSize even when the hash matches', () => {
      // Matches whether 31 or 32 bytes are hashed (GEAR[w0] even leaves bit 31 alone).
      const window = findWindow((h, w) => (h & strict) >>> 0 === 0 && (GEAR[w[0]!]! & 1) === 0);
      const data = zerosAround(window, SMALL.minSize - 1, 40_000);
      expect(expectReferenceCuts(data, SMALL)[0]).toBeGreaterThan(SMALL.minSize);
    });

    it('uses the strict mask for lengths below avgSize and the loose mask from avgSize on', () => {
      const looseOnly = findWindow((h) => (h & loose) >>> 0 === 0 && (h & strict) >>> 0 !== 0);
      const atAvg = zerosAround(looseOnly, SMALL.avgSize, 40_000);
      expect(expectReferenceCuts(atAvg, SMALL)[0]).toBe(SMALL.avgSize);
      const justBelow = zerosAround(looseOnly, SMALL.avgSize - 1, 40_000);
      expect(expectReferenceCuts(justBelow, SMALL)[0]).not.toBe(SMALL.avgSize - 1);
    });
  });

  it('returns the same cuts however the stream is split into scan() calls', () => {
    const data = seededBytes(13, 1 << 20);
    const whole = new CdcScanner(SMALL).scan(data);
    expect(scanInPieces(data, SMALL, [1])).toEqual(whole);
    expect(scanInPieces(data, SMALL, [7, 1, 4093, 31, 65537, 2047, 2048, 2049])).toEqual(whole);
    expect(scanInPieces(data, SMALL, [SMALL.maxSize])).toEqual(whole);
  });

  it('returns ascending cuts relative to the data passed to that call', () => {
    const data = seededBytes(14, 200_000);
    const scanner = new CdcScanner(SMALL);
    const first = scanner.scan(data.subarray(0, 100_000));
    const second = scanner.scan(data.subarray(100_000));
    for (const cuts of [first, second]) {
      expect(cuts).toEqual([...cuts].sort((a, b) => a - b));
      expect(cuts.every((c) => c > 0 && c <= 100_000)).toBe(true);
    }
    expect([...first, ...second.map((c) => c + 100_000)]).toEqual(new CdcScanner(SMALL).scan(data));
  });

  it('reset() starts a new stream', () => {
    const a = seededBytes(15, 50_000);
    const b = seededBytes(16, 100_000);
    const scanner = new CdcScanner(SMALL);
    scanner.scan(a);
    scanner.reset();
    expect(scanner.scan(b)).toEqual(new CdcScanner(SMALL).scan(b));
  });

  it('returns no cuts for empty data and keeps its state', () => {
    const data = seededBytes(17, 100_000);
    const scanner = new CdcScanner(SMALL);
    expect(scanner.scan(new Uint8Array(0))).toEqual([]);
    const head = scanner.scan(data.subarray(0, 5000));
    expect(scanner.scan(new Uint8Array(0))).toEqual([]);
    const tail = scanner.scan(data.subarray(5000)).map((c) => c + 5000);
    expect([...head, ...tail]).toEqual(new CdcScanner(SMALL).scan(data));
  });

  it('never cuts a chunk shorter than minSize or longer than maxSize (default params)', () => {
    const data = seededBytes(18, 24 << 20);
    const cuts = new CdcScanner(DEFAULT_CHUNKER_PARAMS).scan(data);
    const sizes = cuts.map((c, i) => c - (i === 0 ? 0 : cuts[i - 1]!));
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(DEFAULT_CHUNKER_PARAMS.minSize);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(DEFAULT_CHUNKER_PARAMS.maxSize);
  });
});
