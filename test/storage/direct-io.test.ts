import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alignedBuffer, DIRECT_ALIGN, directWritable, writeDirect } from '../../src/storage/direct-io.js';
import { LocalObjectStore } from '../../src/storage/local-store.js';
import { cachedPages, hasFincore, takesDirectIo } from '../helpers/page-cache.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { mountRamfs, unmountTmpfs } from '../helpers/tmpfs.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'datactl-direct-io-'));
const directSupported = await takesDirectIo(dir);

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('alignedBuffer / directWritable', () => {
  it('hands out buffers of the asked size that O_DIRECT can take from their start or any block boundary', () => {
    const b = alignedBuffer(3 * DIRECT_ALIGN + 100);
    expect(b.length).toBe(3 * DIRECT_ALIGN + 100);
    expect(directWritable(b)).toBe(true);
    expect(directWritable(b.subarray(DIRECT_ALIGN, DIRECT_ALIGN + 10))).toBe(true);
    expect(directWritable(b.subarray(16, 100))).toBe(false);
  });

  it('does not take ordinary memory', () => {
    expect(directWritable(Buffer.alloc(2 * DIRECT_ALIGN))).toBe(false);
    expect(directWritable(new Uint8Array(new ArrayBuffer(DIRECT_ALIGN)))).toBe(false);
  });
});

describe.skipIf(!directSupported)('writeDirect', () => {
  it.each([1, DIRECT_ALIGN - 1, DIRECT_ALIGN, DIRECT_ALIGN + 1, 1_000_003])(
    'writes exactly %i bytes: the padding to a block never shows',
    async (length) => {
      const b = alignedBuffer(length + 2 * DIRECT_ALIGN);
      b.fill(0xee); // what lies past the data, written as padding then cut off
      seededBytes(length, length).copy(b);
      const file = path.join(dir, `exact-${length}`);
      expect(await writeDirect(file, b.subarray(0, length))).toBe(true);
      expect(await fs.readFile(file)).toEqual(seededBytes(length, length));
    },
  );

  it.skipIf(!hasFincore)('bypasses the page cache, which an ordinary write fills', async () => {
    const b = alignedBuffer(1 << 20);
    seededBytes(7, b.length).copy(b);
    expect(await writeDirect(path.join(dir, 'direct'), b)).toBe(true);
    await fs.writeFile(path.join(dir, 'buffered'), b);
    expect(await cachedPages([path.join(dir, 'direct')])).toEqual({ cached: 0, pages: 256 });
    expect(await cachedPages([path.join(dir, 'buffered')])).toEqual({ cached: 256, pages: 256 });
  });

  it('answers false and leaves no file when the kernel refuses the write (memory off a block boundary)', async () => {
    const b = alignedBuffer(4 * DIRECT_ALIGN);
    const file = path.join(dir, 'refused');
    expect(await writeDirect(file, b.subarray(16, 16 + DIRECT_ALIGN))).toBe(false);
    await expect(fs.stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fails like an ordinary write when the file exists (it never overwrites)', async () => {
    const file = path.join(dir, 'exists');
    await fs.writeFile(file, 'keep');
    const b = alignedBuffer(DIRECT_ALIGN);
    await expect(writeDirect(file, b)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await fs.readFile(file, 'utf8')).toBe('keep');
  });
});

describe('LocalObjectStore with aligned bodies', () => {
  it.each([true, false])('publishes the exact bytes of a pack buffer (directIo %s) and reads them back', async (directIo) => {
    const store = new LocalObjectStore(path.join(dir, `store-${directIo}`), { directIo });
    const b = alignedBuffer(1 << 20);
    seededBytes(3, b.length).copy(b);
    const length = 700_001;
    await store.put('packs/aa/one', [b.subarray(0, length)]);
    expect(await store.getRange('packs/aa/one', 0, length)).toEqual(seededBytes(3, length));
    expect(await store.stat('packs/aa/one')).toEqual({ size: length });
    expect(await fs.readdir(path.join(dir, `store-${directIo}`, 'tmp'))).toEqual([]);
  });
});

describe('on a filesystem that refuses O_DIRECT (ramfs)', () => {
  it('writeDirect answers false and leaves no file; the local store then writes packs the ordinary way', async (ctx) => {
    const ramfs = mountRamfs();
    if (!ramfs) return ctx.skip(); // mounting needs root
    try {
      expect(await takesDirectIo(ramfs)).toBe(false);
      const b = alignedBuffer(1 << 20);
      seededBytes(4, b.length).copy(b);
      expect(await writeDirect(path.join(ramfs, 'probe'), b)).toBe(false);
      expect(await fs.readdir(ramfs)).toEqual([]);
      const store = new LocalObjectStore(path.join(ramfs, 'store'), { directIo: true });
      await store.put('packs/aa/one', [b.subarray(0, 700_001)]);
      expect(await store.getRange('packs/aa/one', 0, 700_001)).toEqual(seededBytes(4, 700_001));
      expect(await fs.readdir(path.join(ramfs, 'store', 'tmp'))).toEqual([]);
      await store.close();
    } finally {
      unmountTmpfs(ramfs);
    }
  });
});
