import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../src/storage/local-store.js';
import { openObjectStore } from '../../src/storage/open-store.js';
import { MemoryObjectStore } from '../../src/storage/memory-store.js';
import { S3ObjectStore } from '../../src/storage/s3-store.js';
import { codeOf, objectStoreConformance } from './conformance.js';

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'datactl-local-store-'));
}

objectStoreConformance('LocalObjectStore', async () => {
  const dir = await tempDir();
  return { store: new LocalObjectStore(dir), cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});

describe('LocalObjectStore on disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('stores a key at the same relative path and leaves nothing in tmp/', async () => {
    const store = new LocalObjectStore(dir);
    await store.put('packs/ab/abcdef', [Buffer.from('hello')]);
    expect(await fs.readFile(path.join(dir, 'packs', 'ab', 'abcdef'), 'utf8')).toBe('hello');
    expect(await fs.readdir(path.join(dir, 'tmp'))).toEqual([]);
  });

  it('stage writes an object that is invisible until published, and discard drops it', async () => {
    const store = new LocalObjectStore(dir);
    const staged = await store.stage('packs/cd/cdef01', [Buffer.from('staged '), Buffer.from('bytes')]);
    expect(await store.stat('packs/cd/cdef01')).toBeUndefined();
    expect((await fs.readdir(path.join(dir, 'tmp'))).length).toBe(1);
    await staged.publish();
    expect((await store.getRange('packs/cd/cdef01', 0, 12)).toString()).toBe('staged bytes');
    expect(await fs.readdir(path.join(dir, 'tmp'))).toEqual([]);

    const dropped = await store.stage('packs/cd/cdef02', [Buffer.from('never published')]);
    await dropped.discard();
    expect(await fs.readdir(path.join(dir, 'tmp'))).toEqual([]);
    expect(await store.stat('packs/cd/cdef02')).toBeUndefined();
  });

  it('rejects keys that escape the root or are not normalized with E_BAD_REQUEST', async () => {
    const store = new LocalObjectStore(dir);
    for (const key of ['../x', 'a//b', '/abs', 'a/..', 'tmp/x']) {
      expect(await codeOf(store.put(key, [Buffer.from('x')]))).toBe('E_BAD_REQUEST');
      expect(await codeOf(store.stat(key))).toBe('E_BAD_REQUEST');
    }
    expect(await fs.readdir(dir)).toEqual([]); // validated before touching the disk
    await expect(fs.access(path.join(dir, '..', 'x'))).rejects.toThrow();
  });

  it('cleans stale temp files when opened, but keeps fresh ones of a live put', async () => {
    await fs.mkdir(path.join(dir, 'tmp'), { recursive: true });
    const stale = path.join(dir, 'tmp', 'crashed.tmp');
    const fresh = path.join(dir, 'tmp', 'in-flight.tmp');
    await fs.writeFile(stale, 'partial');
    await fs.writeFile(fresh, 'partial');
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await fs.utimes(stale, twoHoursAgo, twoHoursAgo);
    await new LocalObjectStore(dir).init();
    expect(await fs.readdir(path.join(dir, 'tmp'))).toEqual(['in-flight.tmp']);
  });

  it('never lists the tmp/ directory', async () => {
    const store = new LocalObjectStore(dir);
    await store.put('k', [Buffer.from('x')]);
    await fs.writeFile(path.join(dir, 'tmp', 'leftover.tmp'), 'x');
    const keys: string[] = [];
    for await (const key of store.list('')) keys.push(key);
    expect(keys).toEqual(['k']);
  });

  it('a file truncated on disk makes getRange throw E_CORRUPT_OBJECT', async () => {
    const store = new LocalObjectStore(dir);
    await store.put('packs/cd/cdef', [Buffer.alloc(4096, 7)]);
    await fs.truncate(path.join(dir, 'packs', 'cd', 'cdef'), 1000);
    expect(await codeOf(store.getRange('packs/cd/cdef', 512, 1024))).toBe('E_CORRUPT_OBJECT');
    expect(await store.getRange('packs/cd/cdef', 0, 1000)).toEqual(Buffer.alloc(1000, 7));
  });

  it('does not overwrite an existing object (write-once)', async () => {
    const store = new LocalObjectStore(dir);
    await store.put('once', [Buffer.from('first')]);
    await store.put('once', [Buffer.from('second')]);
    expect((await store.getRange('once', 0, 5)).toString()).toBe('first');
  });

  it('check() throws E_STORE_UNAVAILABLE when the root cannot be created', async () => {
    const blocker = path.join(dir, 'a-file');
    await fs.writeFile(blocker, 'x');
    const store = new LocalObjectStore(path.join(blocker, 'objects'));
    expect(await codeOf(store.check())).toBe('E_STORE_UNAVAILABLE');
  });
});

describe('openObjectStore', () => {
  const opts = { dataDir: '/var/lib/datactl' };

  it('opens <dataDir>/objects for an empty spec', () => {
    expect(openObjectStore('', opts).description).toBe('file:///var/lib/datactl/objects');
  });

  it('opens plain paths and file:// URLs as local stores', () => {
    expect(openObjectStore('/srv/objs', opts).description).toBe('file:///srv/objs');
    expect(openObjectStore('file:///srv/my%20objs', opts).description).toBe('file:///srv/my%20objs');
    expect(openObjectStore('file://rel/objs', opts)).toBeInstanceOf(LocalObjectStore);
  });

  it('opens memory:// and s3:// stores', async () => {
    expect(openObjectStore('memory://', opts)).toBeInstanceOf(MemoryObjectStore);
    const s3 = openObjectStore('s3://bucket-a/some/prefix', { ...opts, s3Endpoint: 'http://127.0.0.1:9' });
    expect(s3).toBeInstanceOf(S3ObjectStore);
    expect(s3.description).toBe('s3://bucket-a/some/prefix at http://127.0.0.1:9');
    await s3.close();
  });

  it('rejects an unknown scheme with E_BAD_REQUEST', async () => {
    expect(await codeOf(Promise.resolve().then(() => openObjectStore('gs://bucket/x', opts)))).toBe('E_BAD_REQUEST');
  });
});
