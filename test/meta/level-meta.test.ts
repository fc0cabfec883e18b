import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LevelMetaStore } from '../../src/meta/level-meta.js';

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

  /** `count` records of 2 KiB values, in batches, none of them flushed yet (memtables hold 32 MiB). */
  async function write(count: number, tag: string): Promise<void> {
    for (let at = 0; at < count; at += 1000) {
      const ops = Array.from({ length: Math.min(1000, count - at) }, (_, i) => ({
        type: 'put' as const, key: `t:${tag}:${String(at + i).padStart(6, '0')}`, value: `${tag}${at + i}`.padEnd(2048, '.'),
      }));
      await meta.batch(ops, { sync: false });
    }
  }

  it('writes a large memtable out as a table, every record still readable, then and after reopening', async () => {
    await write(12_000, 'a'); // ~24 MiB
    expect(await tables(join(dir, 'meta'))).toEqual([]);

    expect(await meta.releaseMemory()).toBe(true);
    expect((await tables(join(dir, 'meta'))).length).toBeGreaterThan(0);
    expect(await meta.get('t:a:000000')).toBe('a0'.padEnd(2048, '.'));
    expect(await meta.get('t:a:011999')).toBe('a11999'.padEnd(2048, '.'));

    // Nothing left to write out: a second call releases nothing.
    expect(await meta.releaseMemory()).toBe(false);
    await meta.close();
    meta = await LevelMetaStore.open(join(dir, 'meta'));
    const values = await meta.getMany(['t:a:000000', 't:a:005000', 't:a:011999', 't:a:012000']);
    expect(values.map((v) => v?.slice(0, 6))).toEqual(['a0....', 'a5000.', 'a11999', undefined]);
  });

  it('leaves a small memtable in memory (a flush would only add a small table)', async () => {
    await write(500, 'b'); // ~1 MiB
    expect(await meta.releaseMemory()).toBe(false);
    expect(await tables(join(dir, 'meta'))).toEqual([]);
    expect(await meta.get('t:b:000499')).toBe('b499'.padEnd(2048, '.'));
  });

  it('releases nothing once closed', async () => {
    await write(12_000, 'c');
    await meta.close();
    expect(await meta.releaseMemory()).toBe(false);
    meta = await LevelMetaStore.open(join(dir, 'meta'));
  });
});
