import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3Hex } from '../../src/hash/blake3.js';
import { keys } from '../../src/meta/keys.js';
import { LevelMetaStore } from '../../src/meta/level-meta.js';
import { packKey } from '../../src/packs/chunk-location.js';
import { ChunkIngest } from '../../src/packs/chunk-ingest.js';
import { ChunkReader } from '../../src/packs/chunk-reader.js';
import { MemoryObjectStore } from '../../src/storage/memory-store.js';
import type { ChunkHash, RepoName } from '../../src/types.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { seededBytes } from '../helpers/seeded-bytes.js';

let dir: string;
let meta: LevelMetaStore;
const store = new MemoryObjectStore();
const chunks = Array.from({ length: 40 }, (_, i) => seededBytes(i, 300_000 + i));
const hashes = chunks.map((c) => blake3Hex(c));

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'datactl-reader-'));
  meta = await LevelMetaStore.open(dir);
  const ingest = new ChunkIngest(meta, store, 'r' as RepoName, 4 * 1024 * 1024);
  for (let i = 0; i < chunks.length; i++) await ingest.add(hashes[i]!, chunks[i]!);
  await ingest.commit();
});
afterAll(async () => {
  await meta.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ChunkReader', () => {
  it('returns chunks in the order asked, repeats included, across packs', async () => {
    const order = [hashes[39]!, hashes[0]!, hashes[0]!, ...hashes.slice(10, 30)];
    const out: Buffer[] = [];
    for await (const c of new ChunkReader(meta, store).read(order)) out.push(c);
    expect(out.map((c) => blake3Hex(c))).toEqual(order);
  });

  it('reports a chunk whose stored bytes were altered as corruption, never as data', async () => {
    const loc = (await meta.get(keys.chunk(hashes[5]!)))!.split(' ');
    const key = packKey(loc[0]!);
    const original = await store.getRange(key, 0, (await store.stat(key))!.size);
    const tampered = Buffer.from(original);
    tampered[Number(loc[1]) + 10]! ^= 0xff;
    await store.delete(key);
    await store.put(key, [tampered]);
    try {
      const read = async () => {
        for await (const _ of new ChunkReader(meta, store).read([hashes[5]!])) void _;
      };
      await expect(read()).rejects.toMatchObject({ code: 'E_CORRUPT_OBJECT' });
      // verify: false is for consumers that check every chunk themselves (chunks/read): the bytes
      // come through as stored, and the consumer's check is what catches them.
      const raw: Buffer[] = [];
      for await (const c of new ChunkReader(meta, store).read([hashes[5]!], { verify: false })) raw.push(c);
      expect(raw).toHaveLength(1);
      expect(blake3Hex(raw[0]!)).not.toBe(hashes[5]);
      // A consumer that stops before a failing read-ahead completes must not crash the process.
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown) => unhandled.push(e);
      process.on('unhandledRejection', onUnhandled);
      // Chunk 30 lives in another pack: it is served first while chunk 5's run is read ahead.
      const reader = new ChunkReader(meta, store).read([hashes[30]!, hashes[5]!, hashes[31]!, hashes[32]!] as ChunkHash[]);
      expect(blake3Hex((await reader.next()).value as Buffer)).toBe(hashes[30]);
      await reader.return(undefined);
      await new Promise((r) => setTimeout(r, 50));
      process.off('unhandledRejection', onUnhandled);
      expect(unhandled).toEqual([]);
    } finally {
      await store.delete(key);
      await store.put(key, [original]);
    }
  });
});
