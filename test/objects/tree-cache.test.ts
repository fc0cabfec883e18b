import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keys } from '../../src/meta/keys.js';
import { LevelMetaStore } from '../../src/meta/level-meta.js';
import { TreeCache } from '../../src/meta/records.js';
import { encodeTree, treeId, type Tree } from '../../src/objects/tree.js';
import type { ChunkHash } from '../../src/types.js';

const hash = (n: number) => n.toString(16).padStart(64, '0') as ChunkHash;

/** A directory of `files` entries, distinct per `tag`. */
function treeOf(tag: string, files: number): Tree {
  return {
    entries: Array.from({ length: files }, (_, i) => ({
      name: `${tag}-${i}`, type: 'file' as const, size: i, hash: hash(i), manifest: hash(i + 1),
    })),
  };
}

describe('tree cache', () => {
  let dir: string;
  let meta: LevelMetaStore;
  let reads: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'datactl-trees-'));
    meta = await LevelMetaStore.open(join(dir, 'meta'));
    reads = [];
    // Counts store reads of the real LevelDB store: each one is a decode the cache did not save.
    const get = meta.get.bind(meta);
    meta.get = (key: string) => (reads.push(key), get(key));
  });
  afterEach(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function store(tree: Tree): Promise<string> {
    const id = treeId(tree);
    await meta.batch([{ type: 'put', key: keys.tree(id), value: encodeTree(tree) }]);
    return id;
  }

  it('reads a tree from the store once, then answers from memory', async () => {
    const id = await store(treeOf('a', 3));
    const cache = new TreeCache(meta, 100);
    expect((await cache.get(id)).entries).toHaveLength(3);
    expect((await cache.get(id)).entries[2]!.name).toBe('a-2');
    expect(reads).toEqual([keys.tree(id)]);
  });

  it('drops the least recently used trees once more entries than its bound are held', async () => {
    const a = await store(treeOf('a', 40));
    const b = await store(treeOf('b', 40));
    const c = await store(treeOf('c', 40));
    const cache = new TreeCache(meta, 100);
    await cache.get(a);
    await cache.get(b);
    await cache.get(a); // a is now the most recent; b goes first
    await cache.get(c);
    reads = [];
    await cache.get(a);
    await cache.get(c);
    expect(reads).toEqual([]);
    await cache.get(b);
    expect(reads).toEqual([keys.tree(b)]);
  });

  it('keeps the tree it added last even when it alone is over the bound (paging a huge dir)', async () => {
    const small = await store(treeOf('s', 10));
    const huge = await store(treeOf('h', 500));
    const cache = new TreeCache(meta, 100);
    await cache.get(small);
    for (let page = 0; page < 5; page++) await cache.get(huge);
    expect(reads).toEqual([keys.tree(small), keys.tree(huge)]);
    await cache.get(small);
    expect(reads).toHaveLength(3); // the small one was evicted to make room
  });
});
