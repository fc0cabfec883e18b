import { describe, expect, it } from 'vitest';
import { blake3Hex, blake3HexOfString } from '../../src/hash/blake3.js';
import { canonicalJson, objectId } from '../../src/objects/canonical.js';
import { encodeTree, treeId, type Tree, type TreeEntry } from '../../src/objects/tree.js';
import type { ChunkHash } from '../../src/types.js';

const h = (c: string) => c.repeat(64) as ChunkHash;

describe('tree encoding', () => {
  const tree: Tree = {
    entries: [
      { name: '0', type: 'file', size: 0, hash: h('a'), manifest: h('b') },
      { name: 'dir', type: 'dir', size: 12, tree: h('c') },
      { name: 'é "quoted"', type: 'file', size: 12, hash: h('d'), manifest: h('e') },
    ],
  };

  it('is exactly the canonical JSON of its entries, whatever order their keys were built in', () => {
    const shuffled: Tree = {
      entries: tree.entries.map((e) =>
        e.type === 'file'
          ? ({ type: e.type, size: e.size, name: e.name, manifest: e.manifest, hash: e.hash } as TreeEntry)
          : ({ tree: e.tree, type: e.type, size: e.size, name: e.name } as TreeEntry),
      ),
    };
    expect(encodeTree(shuffled)).toBe(canonicalJson(tree.entries));
    expect(treeId(shuffled)).toBe(objectId('tree', canonicalJson(tree.entries)));
  });

  it('drops fields outside an entry, so extra properties cannot change an id', () => {
    const extra = { entries: tree.entries.map((e) => ({ ...e, note: 'extra' })) } as Tree;
    expect(encodeTree(extra)).toBe(canonicalJson(tree.entries));
  });
});

describe('object ids', () => {
  it('hash strings exactly as blake3Hex hashes their UTF-8 bytes', () => {
    for (const s of ['', 'tree 2\0[]', 'é ü 中文 🎉', 'x'.repeat(300_000)]) {
      expect(blake3HexOfString(s)).toBe(blake3Hex(Buffer.from(s, 'utf8')));
    }
  });
});
