import { describe, expect, it } from 'vitest';
import { canonicalJson, objectId } from '../../src/objects/canonical.js';
import { encodeManifest, manifestId, type Manifest } from '../../src/objects/manifest.js';
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
