import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3Hex } from '../../src/hash/blake3.js';
import { keys } from '../../src/meta/keys.js';
import { LevelMetaStore } from '../../src/meta/level-meta.js';
import { packKey } from '../../src/packs/chunk-location.js';
import { ChunkIngest } from '../../src/packs/chunk-ingest.js';
import { ChunkReader } from '../../src/packs/chunk-reader.js';
import { LocalObjectStore } from '../../src/storage/local-store.js';
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

  it('hands chunks out a run at a time: neighbours in one pack together, a jump starting a new run', async () => {
    const order = [...hashes.slice(0, 5), hashes[20]!, hashes[0]!];
    const runs: Buffer[][] = [];
    for await (const run of new ChunkReader(meta, store).readRuns(order)) runs.push(run);
    expect(runs.map((r) => r.length)).toEqual([5, 1, 1]);
    expect(runs.flat().map((c) => blake3Hex(c))).toEqual(order);
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

describe('ChunkReader with recycle', () => {
  let localDir: string;
  let localMeta: LevelMetaStore;
  let local: LocalObjectStore;
  // 40 chunks of ~300 KB in ~1 MiB packs: a run per pack, a dozen runs, more than the reader
  // keeps buffers for.
  beforeAll(async () => {
    localDir = await mkdtemp(path.join(os.tmpdir(), 'datactl-reader-local-'));
    localMeta = await LevelMetaStore.open(path.join(localDir, 'meta'));
    local = new LocalObjectStore(path.join(localDir, 'objects'));
    const ingest = new ChunkIngest(localMeta, local, 'r' as RepoName, 1024 * 1024);
    for (let i = 0; i < chunks.length; i++) await ingest.add(hashes[i]!, chunks[i]!);
    await ingest.commit();
  });
  afterAll(async () => {
    await localMeta.close();
    await rm(localDir, { recursive: true, force: true });
  });

  const readAll = async (reader: ChunkReader, order: readonly ChunkHash[], keep: (i: number) => boolean = () => false) => {
    const out: Buffer[] = [];
    for await (const c of reader.read(order, { recycle: true })) {
      expect(blake3Hex(c)).toBe(order[out.length]);
      out.push(c);
      if (!keep(out.length - 1)) reader.release(c);
    }
    return out;
  };

  it('reads a dozen runs into a few buffers when each chunk is released', async () => {
    const out = await readAll(new ChunkReader(localMeta, local), hashes);
    expect(new Set(out.map((c) => c.buffer)).size).toBeLessThanOrEqual(4);
    // Without recycle, every run gets a buffer of its own.
    const fresh: Buffer[] = [];
    for await (const c of new ChunkReader(localMeta, local).read(hashes)) fresh.push(c);
    expect(new Set(fresh.map((c) => c.buffer)).size).toBeGreaterThanOrEqual(10);
  });

  it('never reads into a buffer while a chunk of it is held, and reuses it once released', async () => {
    const reader = new ChunkReader(localMeta, local);
    const [held] = await readAll(reader, hashes, (i) => i === 0);
    for (let pass = 0; pass < 2; pass++) {
      const out = await readAll(reader, hashes);
      expect(out.some((c) => c.buffer === held!.buffer)).toBe(false);
    }
    expect(blake3Hex(held!)).toBe(hashes[0]);

    // A reader whose one buffer went out for chunk 0's run gets it back once all of it is released.
    const fresh = new ChunkReader(localMeta, local);
    const firstRun = await readAll(fresh, hashes.slice(0, 2), (i) => i === 0);
    const again = await readAll(fresh, hashes.slice(0, 2));
    expect(again[0]!.buffer).not.toBe(firstRun[0]!.buffer);
    fresh.release(firstRun[0]!);
    const last = await readAll(fresh, hashes.slice(0, 2));
    expect(last[0]!.buffer).toBe(firstRun[0]!.buffer); // the free buffers are taken last in, first out
  });
});
