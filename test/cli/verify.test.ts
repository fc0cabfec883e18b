import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import { blake3Hex } from '../../src/hash/blake3.js';
import type { ChunkRef } from '../../cli/api-types.js';
import { localPathFor } from '../../cli/transfer/local-paths.js';
import { ContentVerifier } from '../../cli/transfer/verify.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

const data = seededBytes(7, 10_000);
const cuts = [0, 3000, 3001, 7500, 10_000];
const chunks: ChunkRef[] = cuts.slice(1).map((end, i) => [blake3Hex(data.subarray(cuts[i], end)), end - cuts[i]!]);
const expected = { path: '/a/file.bin', size: data.length, hash: blake3Hex(data), chunks };

function feed(bytes: Uint8Array, pieceSize: number, exp = expected): void {
  const v = new ContentVerifier(exp);
  for (let o = 0; o < bytes.length; o += pieceSize) v.update(bytes.subarray(o, o + pieceSize));
  v.finish();
}

function failure(fn: () => void): DatactlError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DatactlError) return err;
    throw err;
  }
  throw new Error('expected a DatactlError');
}

describe('ContentVerifier', () => {
  it('accepts the right bytes however the stream is split', () => {
    for (const size of [1, 7, 2999, 3000, 4096, 10_000]) feed(data, size);
  });

  it('checks a chunk too large to gather (over 16 MiB) as it streams, and still catches a flipped byte', () => {
    const big = seededBytes(8, 17 * 1024 * 1024 + 3);
    const exp = { path: '/big', size: big.length, hash: blake3Hex(big), chunks: [[blake3Hex(big.subarray(0, 5)), 5], [blake3Hex(big.subarray(5)), big.length - 5]] as ChunkRef[] };
    feed(big, 65_536 + 11, exp);
    const bad = Buffer.from(big);
    bad[16 * 1024 * 1024 + 9] ^= 1;
    expect(failure(() => feed(bad, 65_536 + 11, exp)).details).toMatchObject({ chunkIndex: 1 });
  });

  it('hands on each chunk only once it matched, for destinations that cannot take bytes back (stdout)', () => {
    for (const size of [1, 2999, 4096, 10_000]) {
      const out: Buffer[][] = [];
      const v = new ContentVerifier(expected, (bytes) => out.push(bytes));
      for (let o = 0; o < data.length; o += size) v.update(data.subarray(o, o + size));
      v.finish();
      expect(out.map((bytes) => Buffer.concat(bytes).length)).toEqual([3000, 1, 4499, 2500]);
      expect(Buffer.concat(out.flat())).toEqual(Buffer.from(data));
    }
    // A flipped byte in chunk 2: chunks 0 and 1 were handed on, nothing of chunk 2 or later.
    const bad = Buffer.from(data);
    bad[5000] ^= 1;
    const out: Buffer[] = [];
    const v = new ContentVerifier(expected, (bytes) => out.push(...bytes));
    expect(failure(() => v.update(bad)).details).toMatchObject({ chunkIndex: 2 });
    expect(Buffer.concat(out)).toEqual(Buffer.from(data.subarray(0, 3001)));
  });

  it('holds a chunk too large to gather until it matched, then hands on its bytes', () => {
    const big = seededBytes(8, 17 * 1024 * 1024 + 3);
    const exp = { path: '/big', size: big.length, hash: blake3Hex(big), chunks: [[blake3Hex(big.subarray(0, 5)), 5], [blake3Hex(big.subarray(5)), big.length - 5]] as ChunkRef[] };
    const bad = Buffer.from(big);
    bad[big.length - 1] ^= 1;
    const out: Buffer[] = [];
    const v = new ContentVerifier(exp, (bytes) => out.push(...bytes));
    expect(failure(() => {
      for (let o = 0; o < bad.length; o += 65_536) v.update(bad.subarray(o, o + 65_536));
    }).details).toMatchObject({ chunkIndex: 1 });
    expect(Buffer.concat(out)).toEqual(Buffer.from(big.subarray(0, 5)));
  });

  it('accepts an empty file with no chunks', () => {
    feed(new Uint8Array(0), 1, { path: '/e', size: 0, hash: blake3Hex(new Uint8Array(0)), chunks: [] });
  });

  it('rejects a flipped byte with E_CORRUPT_OBJECT naming the path and the chunk', () => {
    const bad = Buffer.from(data);
    bad[5000] ^= 1;
    const err = failure(() => feed(bad, 4096));
    expect(err.code).toBe('E_CORRUPT_OBJECT');
    expect(err.message).toContain('/a/file.bin');
    expect(err.details).toMatchObject({ path: '/a/file.bin', chunkIndex: 2 });
  });

  it('rejects a truncated stream', () => {
    expect(failure(() => feed(data.subarray(0, 9999), 4096)).code).toBe('E_CORRUPT_OBJECT');
  });

  it('rejects extra bytes', () => {
    expect(failure(() => feed(Buffer.concat([data, Buffer.from('x')]), 4096)).code).toBe('E_CORRUPT_OBJECT');
  });

  it('rejects chunks that match but a whole-file hash that does not', () => {
    expect(failure(() => feed(data, 4096, { ...expected, hash: blake3Hex('other') })).message).toContain('content hashes to');
  });
});

describe('localPathFor', () => {
  it('maps repo paths under the root to local paths under the output directory', () => {
    expect(localPathFor('out', '/data', '/data/a/b.csv')).toBe('out/a/b.csv');
    expect(localPathFor('out', '/', '/x.csv')).toBe('out/x.csv');
  });

  it('refuses paths outside the root', () => {
    expect(failure(() => localPathFor('out', '/data', '/database/x')).code).toBe('E_INVALID_PATH');
    expect(failure(() => localPathFor('out', '/data', '/data')).code).toBe('E_INVALID_PATH');
  });

  it('refuses a path from the server that would step out of the output directory or is not normalized', () => {
    for (const bad of ['/data/../x', '/data/a/../../x', '/data/..', '/data/./x', '/data/a//b', '/data/a/', '/data/', '/data/a\0b']) {
      expect(failure(() => localPathFor('out', '/data', bad)).code, bad).toBe('E_INVALID_PATH');
    }
    expect(failure(() => localPathFor('out', '/', '/../etc/passwd')).code).toBe('E_INVALID_PATH');
  });

  it('gives what path.join gives, however the output directory is written', () => {
    for (const out of ['out', 'out/', './out', 'a/../out', '.', './', '/', '/tmp//x/', '../up']) {
      for (const [root, file] of [['/', '/f.csv'], ['/', '/d/e/f.csv'], ['/d', '/d/e/...'], ['/d', '/d/.hidden'], ['/', '/..foo'], ['/', '/...'], ['/d', '/d/..x/y']]) {
        const rel = file!.slice(root === '/' ? 1 : root!.length + 1);
        expect(localPathFor(out, root!, file!), `${out} ${file}`).toBe(path.join(out, ...rel.split('/')));
      }
    }
  });
});
