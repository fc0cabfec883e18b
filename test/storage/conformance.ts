import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatactlError, type ErrorCode } from '../../src/errors.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

export type MakeStore = () => Promise<{ store: ObjectStore; cleanup: () => Promise<void> }>;

/** Resolve to the DatactlError code `promise` rejects with (fails the test if it resolves). */
export async function codeOf(promise: Promise<unknown>): Promise<ErrorCode> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatactlError);
  return (err as DatactlError).code;
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of iterable) keys.push(key);
  return keys.sort();
}

/** The ObjectStore contract; every adapter runs it (restic-style: one suite, every backend). */
export function objectStoreConformance(name: string, make: MakeStore): void {
  describe(`ObjectStore conformance: ${name}`, () => {
    let store: ObjectStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await make());
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('check() resolves on a working store', async () => {
      await expect(store.check()).resolves.toBeUndefined();
    });

    it('returns the exact bytes put, at offset 0, in the middle and at the last byte', async () => {
      const bytes = randomBytes(1000);
      await store.put('packs/ab/abcdef', [bytes]);
      expect(await store.getRange('packs/ab/abcdef', 0, 1000)).toEqual(bytes);
      expect(await store.getRange('packs/ab/abcdef', 0, 1)).toEqual(bytes.subarray(0, 1));
      expect(await store.getRange('packs/ab/abcdef', 123, 456)).toEqual(bytes.subarray(123, 579));
      expect(await store.getRange('packs/ab/abcdef', 999, 1)).toEqual(bytes.subarray(999));
    });

    it('stores a multi-part put as the concatenation of its parts', async () => {
      const parts = [randomBytes(10), new Uint8Array(0), randomBytes(3000), randomBytes(1)];
      await store.put('multi', parts);
      expect(await store.getRange('multi', 0, 3011)).toEqual(Buffer.concat(parts));
      expect(await store.stat('multi')).toEqual({ size: 3011 });
    });

    it('putting the same key twice leaves one object with the same bytes', async () => {
      const bytes = randomBytes(64);
      await store.put('twice/k', [bytes]);
      await store.put('twice/k', [bytes]);
      expect(await collect(store.list('twice/'))).toEqual(['twice/k']);
      expect(await store.getRange('twice/k', 0, 64)).toEqual(bytes);
    });

    it('getRange of an absent key throws E_OBJECT_NOT_FOUND', async () => {
      expect(await codeOf(store.getRange('absent/key', 0, 1))).toBe('E_OBJECT_NOT_FOUND');
    });

    it('a range past the end of the object throws E_CORRUPT_OBJECT', async () => {
      await store.put('short', [randomBytes(100)]);
      expect(await codeOf(store.getRange('short', 50, 51))).toBe('E_CORRUPT_OBJECT');
      expect(await codeOf(store.getRange('short', 100, 1))).toBe('E_CORRUPT_OBJECT');
      expect(await codeOf(store.getRange('short', 500, 10))).toBe('E_CORRUPT_OBJECT');
    });

    it('stat gives the size of a present key and undefined for an absent one', async () => {
      await store.put('stat/me', [randomBytes(77)]);
      expect(await store.stat('stat/me')).toEqual({ size: 77 });
      expect(await store.stat('stat/absent')).toBeUndefined();
    });

    it('delete removes the object and is idempotent', async () => {
      await store.put('del/k', [randomBytes(5)]);
      await store.delete('del/k');
      expect(await store.stat('del/k')).toBeUndefined();
      await expect(store.delete('del/k')).resolves.toBeUndefined();
      await expect(store.delete('del/never-existed')).resolves.toBeUndefined();
    });

    it('list returns exactly the keys under a prefix, nested ones included', async () => {
      const inside = ['packs/aa/1', 'packs/aa/2', 'packs/bb/deep/3'];
      const outside = ['packsx/1', 'other/packs/1', 'pack'];
      await Promise.all([...inside, ...outside].map((k) => store.put(k, [Buffer.from(k)])));
      expect(await collect(store.list('packs/'))).toEqual(inside);
      expect(await collect(store.list('packs/aa/'))).toEqual(['packs/aa/1', 'packs/aa/2']);
      expect(await collect(store.list('packs'))).toEqual([...inside, ...outside.slice(0, 1)].sort());
      expect(await collect(store.list('nothing/'))).toEqual([]);
      expect(await collect(store.list(''))).toEqual([...inside, ...outside].sort());
    });

    it('round-trips a 20 MiB object', async () => {
      const big = randomBytes(20 * 1024 * 1024);
      await store.put('big/object', [big.subarray(0, 7_000_000), big.subarray(7_000_000)]);
      expect(await store.stat('big/object')).toEqual({ size: big.length });
      expect((await store.getRange('big/object', 0, big.length)).equals(big)).toBe(true);
      const tail = await store.getRange('big/object', big.length - 4096, 4096);
      expect(tail.equals(big.subarray(big.length - 4096))).toBe(true);
    }, 60_000);

    it('lands all of 16 concurrent puts of distinct keys', async () => {
      const objects = Array.from({ length: 16 }, (_, i) => ({ key: `conc/${i}`, bytes: randomBytes(1024 + i) }));
      await Promise.all(objects.map((o) => store.put(o.key, [o.bytes])));
      expect(await collect(store.list('conc/'))).toEqual(objects.map((o) => o.key).sort());
      for (const o of objects) expect(await store.getRange(o.key, 0, o.bytes.length)).toEqual(o.bytes);
    });

    it('stores an empty object (zero parts) with size 0', async () => {
      await store.put('empty/obj', []);
      expect(await store.stat('empty/obj')).toEqual({ size: 0 });
      expect((await store.getRange('empty/obj', 0, 0)).length).toBe(0);
      expect(await codeOf(store.getRange('empty/obj', 0, 1))).toBe('E_CORRUPT_OBJECT');
    });

    it('rejects malformed keys with E_BAD_REQUEST', async () => {
      for (const key of ['../x', 'a//b', '/abs', 'a/../b', 'a/./b', 'sp ace', '']) {
        expect(await codeOf(store.put(key, [Buffer.from('x')]))).toBe('E_BAD_REQUEST');
        expect(await codeOf(store.getRange(key, 0, 1))).toBe('E_BAD_REQUEST');
      }
    });

    it('rejects negative or fractional ranges with E_BAD_REQUEST', async () => {
      await store.put('range/k', [randomBytes(10)]);
      for (const [offset, length] of [[-1, 1], [0, -1], [0.5, 1], [0, Number.NaN]] as const) {
        expect(await codeOf(store.getRange('range/k', offset, length))).toBe('E_BAD_REQUEST');
      }
    });

    it('has a description for logs', () => {
      expect(store.description).toMatch(/^[a-z0-9]+:\/\//);
    });
  });
}
