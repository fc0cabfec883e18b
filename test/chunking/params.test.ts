import { describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import {
  DEFAULT_CHUNKER_PARAMS,
  chunkerId,
  parseChunkerId,
  validateChunkerParams,
  type ChunkerParams,
} from '../../src/chunking/index.js';
import { CdcScanner, FileChunker } from '../../src/chunking/index.js';

function expectBadRequest(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DatactlError);
    expect((err as DatactlError).code).toBe('E_BAD_REQUEST');
    expect((err as DatactlError).message).toMatch(message);
    return;
  }
  expect.fail('expected a DatactlError E_BAD_REQUEST');
}

describe('chunker parameters', () => {
  it('defaults to min 256 KiB, avg 1 MiB, max 4 MiB', () => {
    expect(DEFAULT_CHUNKER_PARAMS).toEqual({ minSize: 262144, avgSize: 1048576, maxSize: 4194304 });
  });

  it('accepts min < avg < max with avg a power of two', () => {
    expect(validateChunkerParams({ minSize: 2048, avgSize: 8192, maxSize: 32768 })).toEqual({ minSize: 2048, avgSize: 8192, maxSize: 32768 });
    expect(validateChunkerParams({ minSize: 64, avgSize: 128, maxSize: 129 })).toEqual({ minSize: 64, avgSize: 128, maxSize: 129 });
  });

  it('rejects an avgSize that is not a power of two', () => {
    expectBadRequest(() => validateChunkerParams({ minSize: 2048, avgSize: 10000, maxSize: 32768 }), /avgSize must be a power of two/);
  });

  it('rejects sizes out of order', () => {
    const cases: ChunkerParams[] = [
      { minSize: 8192, avgSize: 8192, maxSize: 32768 },
      { minSize: 2048, avgSize: 8192, maxSize: 8192 },
      { minSize: 16384, avgSize: 8192, maxSize: 32768 },
      { minSize: 2048, avgSize: 65536, maxSize: 32768 },
    ];
    for (const p of cases) expectBadRequest(() => validateChunkerParams(p), /minSize < avgSize < maxSize/);
  });

  it('rejects non-integer, non-positive and missing sizes', () => {
    expectBadRequest(() => validateChunkerParams({ minSize: 2048.5, avgSize: 8192, maxSize: 32768 }), /minSize must be a positive integer/);
    expectBadRequest(() => validateChunkerParams({ minSize: 2048, avgSize: -8192, maxSize: 32768 }), /avgSize must be a positive integer/);
    expectBadRequest(() => validateChunkerParams({ minSize: 2048, avgSize: 8192 } as ChunkerParams), /maxSize must be a positive integer/);
    expectBadRequest(() => validateChunkerParams({ minSize: 2048, avgSize: 8192, maxSize: NaN }), /maxSize must be a positive integer/);
  });

  it('rejects a minSize too small for the 32-byte hash window and a maxSize above 256 MiB', () => {
    expectBadRequest(() => validateChunkerParams({ minSize: 32, avgSize: 128, maxSize: 1024 }), /minSize must be at least 64/);
    expectBadRequest(() => validateChunkerParams({ minSize: 1 << 20, avgSize: 1 << 24, maxSize: (256 << 20) + 1 }), /maxSize must be at most 268435456/);
  });

  it('validates in the CdcScanner and FileChunker constructors too', () => {
    const bad = { minSize: 4096, avgSize: 4096, maxSize: 8192 };
    expectBadRequest(() => new CdcScanner(bad), /minSize < avgSize < maxSize/);
    expectBadRequest(() => new FileChunker(bad), /minSize < avgSize < maxSize/);
  });
});

describe('chunker id', () => {
  it('names the algorithm version and every size', () => {
    expect(chunkerId(DEFAULT_CHUNKER_PARAMS)).toBe('fastcdc-v1:262144:1048576:4194304');
    expect(chunkerId({ minSize: 2048, avgSize: 8192, maxSize: 32768 })).toBe('fastcdc-v1:2048:8192:32768');
  });

  it('round-trips through parseChunkerId', () => {
    const p = { minSize: 2048, avgSize: 8192, maxSize: 32768 };
    expect(parseChunkerId(chunkerId(p))).toEqual(p);
    expect(parseChunkerId('fastcdc-v1:262144:1048576:4194304')).toEqual(DEFAULT_CHUNKER_PARAMS);
  });

  it('refuses to make an id for invalid parameters', () => {
    expectBadRequest(() => chunkerId({ minSize: 1, avgSize: 3, maxSize: 2 }), /invalid chunker parameters/);
  });

  it('rejects unknown algorithms and malformed ids', () => {
    for (const id of [
      'fastcdc-v2:262144:1048576:4194304',
      'rabin:262144:1048576:4194304',
      'fastcdc-v1:262144:1048576',
      'fastcdc-v1:262144:1048576:4194304:1',
      'fastcdc-v1:0262144:1048576:4194304',
      'fastcdc-v1:262144:1e6:4194304',
      'fastcdc-v1:262144: 1048576:4194304',
      '',
    ]) {
      expectBadRequest(() => parseChunkerId(id), /unknown or malformed chunker id/);
    }
  });

  it('rejects a well-formed id whose sizes are invalid', () => {
    expectBadRequest(() => parseChunkerId('fastcdc-v1:262144:1000000:4194304'), /avgSize must be a power of two/);
  });
});
