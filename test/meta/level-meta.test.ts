import { appendFileSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelMetaStore } from '../../src/meta/level-meta.js';
import { mountTmpfs, unmountTmpfs } from '../helpers/tmpfs.js';
import { waitFor } from '../helpers/wait.js';

const tables = async (dir: string) => (await readdir(dir)).filter((f) => f.endsWith('.ldb'));

describe('LevelDB metadata store: releasing memory when idle', () => {
  let dir: string;
  let meta: LevelMetaStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'datactl-level-meta-'));
    meta = await LevelMetaStore.open(join(dir, 'meta'));
  });
  afterEach(async () => {
    await meta.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** `count` records of 2 KiB values, in batches, none of them flushed yet below ~4000 (memtables hold 8 MiB). */
  async function write(count: number, tag: string, perBatch = 1000): Promise<void> {
    for (let at = 0; at < count; at += perBatch) {
      const ops = Array.from({ length: Math.min(perBatch, count - at) }, (_, i) => ({
        type: 'put' as const, key: `t:${tag}:${String(at + i).padStart(6, '0')}`, value: `${tag}${at + i}`.padEnd(2048, '.'),
      }));
      await meta.batch(ops, { sync: false });
    }
  }

  it('writes a large memtable out as a table, every record still readable, then and after reopening', async () => {
    await write(3_000, 'a'); // ~6 MiB
    expect(await tables(join(dir, 'meta'))).toEqual([]);

    expect(await meta.releaseMemory()).toBe(true);
    expect((await tables(join(dir, 'meta'))).length).toBeGreaterThan(0);
    expect(await meta.get('t:a:000000')).toBe('a0'.padEnd(2048, '.'));
    expect(await meta.get('t:a:002999')).toBe('a2999'.padEnd(2048, '.'));

    // Nothing left to write out: a second call releases nothing.
    expect(await meta.releaseMemory()).toBe(false);
    await meta.close();
    meta = await LevelMetaStore.open(join(dir, 'meta'));
    const values = await meta.getMany(['t:a:000000', 't:a:001500', 't:a:002999', 't:a:003000']);
    expect(values.map((v) => v?.slice(0, 6))).toEqual(['a0....', 'a1500.', 'a2999.', undefined]);
  });

  it('leaves a small memtable in memory (a flush would only add a small table)', async () => {
    await write(500, 'b'); // ~1 MiB
    expect(await meta.releaseMemory()).toBe(false);
    expect(await tables(join(dir, 'meta'))).toEqual([]);
    expect(await meta.get('t:b:000499')).toBe('b499'.padEnd(2048, '.'));
  });

  it('does not count what LevelDB already wrote out on its own when a memtable filled', async () => {
    // ~9.2 MiB in small batches (LevelDB switches memtables between batches): one memtable's
    // worth, then ~1 MiB.
    await write(4_600, 'd', 100);
    await waitFor(async () => (await tables(join(dir, 'meta'))).length > 0, 5_000);
    expect(await meta.releaseMemory()).toBe(false);
  });

  it('counts a memtable that one write took past its size as full until the next write swaps it', async () => {
    await write(4_100, 'e', 4_100); // one batch of ~8.6 MiB: LevelDB swaps memtables only before a write
    expect(await tables(join(dir, 'meta'))).toEqual([]);
    expect(await meta.releaseMemory()).toBe(true);
    expect((await tables(join(dir, 'meta'))).length).toBeGreaterThan(0);
  });

  it('releases nothing once closed', async () => {
    await write(3_000, 'c');
    await meta.close();
    expect(await meta.releaseMemory()).toBe(false);
    meta = await LevelMetaStore.open(join(dir, 'meta'));
  });
});

const tmpfs = mountTmpfs('4m');
describe.skipIf(!tmpfs)('LevelDB metadata store after a failed write (a full disk, on a 4 MiB tmpfs)', () => {
  afterAll(() => unmountTmpfs(tmpfs!));

  it('keeps every write acknowledged after the failure, across a reopen (crash recovery replays the same log)', async () => {
    let meta = await LevelMetaStore.open(join(tmpfs!, 'meta'));
    await meta.batch([{ type: 'put', key: 't:before', value: 'kept' }]);
    // Fill the disk, then write until LevelDB's log cannot take a record.
    const fill = join(tmpfs!, 'fill');
    try {
      for (let i = 0; ; i++) appendFileSync(fill, Buffer.alloc(64 * 1024, i));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    // Opened while the database was healthy, written after the reopen the failure brings.
    const stale = meta.openBatch();
    stale.put('t:stale', 'x');
    let failed: unknown;
    for (let i = 0; i < 1000 && !failed; i++) {
      await meta.batch([{ type: 'put', key: `t:fill:${i}`, value: 'x'.repeat(3000) }], { sync: false }).catch((err: unknown) => (failed = err));
    }
    expect(failed).toMatchObject({ code: 'E_STORAGE_FULL' });
    expect((failed as Error).message).toMatch(/failed a write: .*(No space left|space)/i);

    // Space again. A batch opened after the failure waits for the reopen and is written by it.
    rmSync(fill);
    const afterFailure = meta.openBatch();
    afterFailure.put('t:after-failure', 'written');
    await afterFailure.write(); // reopens
    expect(await meta.get('t:after-failure')).toBe('written');
    // One opened before the reopen is closed by it: its write fails saying so, and does not count
    // as a new failure (which would reopen again and close the next batch).
    await expect(stale.write()).rejects.toMatchObject({ code: 'E_STORE_UNAVAILABLE', message: expect.stringMatching(/was reopened/) });
    const next = meta.openBatch();
    next.put('t:next', 'written');
    await meta.get('t:before');
    await next.write();
    expect(await meta.get('t:next')).toBe('written');
    for (let i = 0; i < 20; i++) await meta.batch([{ type: 'put', key: `t:after:${i}`, value: `v${i}`.padEnd(500, '.') }]);
    await meta.close();
    meta = await LevelMetaStore.open(join(tmpfs!, 'meta'));
    try {
      expect(await meta.get('t:before')).toBe('kept');
      const after = await meta.getMany(Array.from({ length: 20 }, (_, i) => `t:after:${i}`));
      expect(after.map((v) => v?.slice(0, 3).replace(/\.+$/, ''))).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
    } finally {
      await meta.close();
    }
  });
});

describe('LevelDB metadata store: tables on disk', () => {
  const value = (i: number) => `v${i}`.padEnd(4096, '.'); // snappy shrinks this ~16x
  const records = (tag: string) =>
    Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: `t:${tag}:${String(i).padStart(4, '0')}`, value: value(i) }));
  const tableBytes = async (dir: string) => {
    let total = 0;
    for (const f of await tables(dir)) total += (await stat(join(dir, f))).size;
    return total;
  };

  it('are written uncompressed, and a store whose tables were written compressed still reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'datactl-level-tables-'));
    const at = join(dir, 'meta');
    try {
      // A store as datactl wrote it before: LevelDB's default, snappy.
      const before = new Level<string, string>(at, { compression: true });
      await before.batch(records('old'));
      await (before as unknown as { compactRange(a: string, b: string): Promise<void> }).compactRange('t:', 't:\xff');
      await before.close();
      const compressed = await tableBytes(at);
      expect(compressed).toBeGreaterThan(0);
      expect(compressed).toBeLessThan((1000 * 4096) / 4);

      const meta = await LevelMetaStore.open(at);
      try {
        expect(await meta.get('t:old:0999')).toBe(value(999));
        await meta.batch(records('new'), { sync: false });
        expect(await meta.releaseMemory()).toBe(true);
        expect((await tableBytes(at)) - compressed).toBeGreaterThan(1000 * 4096);
        expect(await meta.getMany(['t:old:0000', 't:new:0999'])).toEqual([value(0), value(999)]);
      } finally {
        await meta.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
