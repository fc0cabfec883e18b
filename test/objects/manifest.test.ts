import { describe, expect, it } from 'vitest';
import { canonicalJson, objectId } from '../../src/objects/canonical.js';
import { chunkerId, DEFAULT_CHUNKER_PARAMS } from '../../src/chunking/index.js';
import { EMPTY_HASH } from '../../src/hash/blake3.js';
import { encodeManifest, IMPLIED_CHUNKERS, impliedManifest, impliedManifestId, isImpliedManifest, manifestId, parseManifest, type Manifest } from '../../src/objects/manifest.js';
import type { ChunkHash } from '../../src/types.js';

const h = (c: string) => c.repeat(64) as ChunkHash;

describe('manifest encoding', () => {
  const manifests: Manifest[] = [
    { size: 0, hash: h('a'), chunker: 'fastcdc-v1-262144-1048576-4194304', chunks: [] },
    { size: 3, hash: h('b'), chunker: 'x', chunks: [[h('c'), 3]] },
    { size: 30, hash: h('d'), chunker: 'fastcdc-v1', chunks: [[h('e'), 10], [h('f'), 20]] },
  ];

  it('is exactly the canonical JSON of the manifest, whatever order its keys were built in', () => {
    for (const m of manifests) {
      const shuffled = { chunks: m.chunks, size: m.size, chunker: m.chunker, hash: m.hash } as Manifest;
      expect(encodeManifest(shuffled)).toBe(canonicalJson(m));
      expect(manifestId(shuffled)).toBe(objectId('manifest', canonicalJson(m)));
    }
  });

  it('drops fields outside the manifest, so extra properties cannot change an id', () => {
    const m = { ...manifests[2]!, note: 'extra' } as Manifest;
    expect(encodeManifest(m)).toBe(canonicalJson(manifests[2]));
  });
});

describe('implied manifests', () => {
  const chunker = chunkerId(DEFAULT_CHUNKER_PARAMS);
  const one: Manifest = { size: 3, hash: h('b'), chunker, chunks: [[h('b'), 3]] };
  const empty: Manifest = { size: 0, hash: EMPTY_HASH, chunker, chunks: [] };
  const ref = (m: Manifest) => ({ manifest: manifestId(m), hash: m.hash, size: m.size });

  it('include the default chunker, so files put with the defaults are covered', () => {
    expect(IMPLIED_CHUNKERS).toContain(chunker);
  });

  it('have the id of their canonical encoding in their fast form too, and only they get one', () => {
    const sizes = [1, 9, 10, 4096, 4_194_304, 64 * 1024 * 1024];
    for (const id of IMPLIED_CHUNKERS) {
      const base = { ...one, chunker: id };
      for (const m of [{ ...empty, chunker: id }, ...sizes.map((size) => ({ ...base, size, chunks: [[base.hash, size]] }) as Manifest)]) {
        expect(impliedManifestId(m)).toBe(objectId('manifest', canonicalJson(m)));
      }
    }
    expect(impliedManifestId({ ...one, chunker: 'fastcdc-v1:64:256:1024' })).toBeUndefined();
    expect(impliedManifestId({ ...one, chunks: [[h('c'), 3]] })).toBeUndefined();
  });

  it('are the empty and one-chunk manifests of an implied chunker, and no others', () => {
    expect(isImpliedManifest(one)).toBe(true);
    expect(isImpliedManifest(empty)).toBe(true);
    expect(isImpliedManifest({ ...one, chunker: 'fastcdc-v1:64:256:1024' })).toBe(false);
    expect(isImpliedManifest({ ...one, chunks: [[h('c'), 3]] })).toBe(false); // one chunk, but not the file hash
    expect(isImpliedManifest({ size: 6, hash: h('b'), chunker, chunks: [[h('b'), 3], [h('c'), 3]] })).toBe(false);
  });

  it('are rebuilt from a file entry exactly, and only when the entry names that very manifest', () => {
    expect(impliedManifest(ref(one))).toEqual(one);
    expect(impliedManifest(ref(empty))).toEqual(empty);
    const many: Manifest = { size: 6, hash: h('b'), chunker, chunks: [[h('c'), 3], [h('d'), 3]] };
    expect(impliedManifest(ref(many))).toBeUndefined();
    expect(impliedManifest(ref({ ...one, chunker: 'fastcdc-v1:64:256:1024' }))).toBeUndefined();
    expect(impliedManifest({ ...ref(one), size: 4 })).toBeUndefined(); // an entry that disagrees with its manifest id
  });
});

describe('parseManifest', () => {
  const chunker = 'fastcdc-v1:262144:1048576:4194304';

  it('accepts a one-chunk manifest whose chunk hash is its file hash', () => {
    const m = { size: 3, hash: h('b'), chunker, chunks: [[h('b'), 3]] };
    expect(parseManifest(m, '/f')).toEqual(m);
  });

  it.each([
    ['an uppercase chunk hash', [['B'.repeat(64), 3]]],
    ['a short chunk hash', [['b'.repeat(63), 3]]],
    ['a chunk that is not a pair', [[h('b')]]],
  ])('rejects %s', (_, chunks) => {
    expect(() => parseManifest({ size: 3, hash: h('b'), chunker, chunks }, '/f')).toThrow('manifest for /f: each chunk must be [64-hex hash, size]');
  });

  it('rejects a file hash that is not hex even when the chunk repeats it', () => {
    expect(() => parseManifest({ size: 3, hash: 'B'.repeat(64), chunker, chunks: [['B'.repeat(64), 3]] }, '/f')).toThrow('hash must be 64 lowercase hex digits');
  });
});
