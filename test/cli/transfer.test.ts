import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blake3Hex } from '../../src/hash/blake3.js';
import { getFiles } from '../../cli/transfer/get.js';
import { walkRemote, walkRemotePages } from '../../cli/transfer/get-tree.js';
import { putFiles } from '../../cli/transfer/put.js';
import { FakeClient } from './fake-client.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

const smallChunks = { minSize: 1024, avgSize: 4096, maxSize: 16384 };
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'datactl-transfer-'));
  await mkdir(join(dir, 'src/sub'), { recursive: true });
  await writeFile(join(dir, 'src/big.bin'), seededBytes(1, 200_000));
  await writeFile(join(dir, 'src/sub/small.txt'), 'hello\n');
  await writeFile(join(dir, 'src/sub/copy.txt'), 'hello\n');
  await writeFile(join(dir, 'src/empty'), '');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(fake: FakeClient, extra: Partial<Parameters<typeof putFiles>[1]> = {}) {
  return putFiles(fake.asClient(), { repo: 'r', path: '/data', sources: [join(dir, 'src')], recursive: true, chunker: smallChunks, author: 'tester', index: false, ...extra });
}

describe('putFiles', () => {
  it('commits every file once, atomically, with manifests that describe the bytes', async () => {
    const fake = new FakeClient();
    const result = await put(fake);
    expect(fake.commits).toHaveLength(1);
    // In the order files were read, which the server does not care about.
    expect(fake.commits[0]!.changes.map((c) => c.path).sort()).toEqual(['/data/big.bin', '/data/empty', '/data/sub/copy.txt', '/data/sub/small.txt']);
    const big = fake.files.get('/data/big.bin')!;
    expect(big.hash).toBe(blake3Hex(seededBytes(1, 200_000)));
    expect(big.chunks.reduce((n, [, size]) => n + size, 0)).toBe(200_000);
    expect(big.chunks.length).toBeGreaterThan(5);
    expect(big.chunker).toBe('fastcdc-v1:1024:4096:16384');
    expect(fake.files.get('/data/empty')).toMatchObject({ size: 0, chunks: [] });
    expect(result).toMatchObject({ repo: 'r', branch: 'main', created: true, files: 4, bytes: 200_012 });
    expect(result.uploadedChunks).toBe(result.chunks - 1); // the two identical small files share a chunk
  });

  it('uploads nothing the second time and reports no changes', async () => {
    const fake = new FakeClient();
    await put(fake);
    const again = await put(fake);
    expect(again).toMatchObject({ created: false, uploadedChunks: 0, uploadedBytes: 0 });
  });

  it('reads stdin for "-"', async () => {
    const fake = new FakeClient();
    const stdin = (async function* () {
      yield Buffer.from('from ');
      yield Buffer.from('stdin');
    })();
    const result = await putFiles(fake.asClient(), { repo: 'r', path: '/in.txt', sources: ['-'], stdin, author: 'a', index: false });
    expect(result).toMatchObject({ files: 1, bytes: 10 });
    expect(fake.files.get('/in.txt')!.hash).toBe(blake3Hex('from stdin'));
  });

  it('uses the given message and author, and a descriptive default message', async () => {
    const fake = new FakeClient();
    await put(fake, { message: 'import v2' });
    await putFiles(fake.asClient(), { repo: 'r', sources: [join(dir, 'src/sub/small.txt')], author: 'a', index: false });
    expect(fake.commits.map((c) => [c.message, c.author])).toEqual([
      ['import v2', 'tester'],
      ['put /small.txt', 'a'],
    ]);
  });
});

describe('walking a remote tree', () => {
  /** a, b/x, b/y, c, d/e/f, d/g, z under /t, listed two entries a page. */
  async function pagedTree(): Promise<FakeClient> {
    const fake = new FakeClient();
    const names = ['a', 'b/x', 'b/y', 'c', 'd/e/f', 'd/g', 'z'];
    for (const name of names) {
      await mkdir(join(dir, 'tree', name, '..'), { recursive: true });
      await writeFile(join(dir, 'tree', name), `${name}\n`);
    }
    await putFiles(fake.asClient(), { repo: 'r', path: '/t', sources: [join(dir, 'tree')], recursive: true, chunker: smallChunks, author: 'tester', index: false });
    fake.pageSize = 2;
    return fake;
  }

  it('yields every file depth first in name order, across pages, in groups that end at each directory', async () => {
    const fake = await pagedTree();
    const groups: string[][] = [];
    for await (const files of walkRemotePages(fake.asClient(), 'r', 'c', '/t')) groups.push(files.map((f) => f.path));
    expect(groups).toEqual([['/t/a'], ['/t/b/x', '/t/b/y'], ['/t/c'], ['/t/d/e/f'], ['/t/d/g'], ['/t/z']]);
    const one: string[] = [];
    for await (const f of walkRemote(fake.asClient(), 'r', 'c', '/t')) one.push(f.path);
    expect(one).toEqual(groups.flat());
  });

  it('downloads such a tree whole', async () => {
    const fake = await pagedTree();
    const out = join(dir, 'out');
    expect(await getFiles(fake.asClient(), { repo: 'r', path: '/t', recursive: true, output: out })).toMatchObject({ files: 7 });
    expect(await readFile(join(out, 'd/e/f'), 'utf8')).toBe('d/e/f\n');
    expect(await readFile(join(out, 'z'), 'utf8')).toBe('z\n');
  });
});

describe('getFiles', () => {
  it('fetches a directory recursively, batching small files, and reproduces the bytes', async () => {
    const fake = new FakeClient();
    await put(fake);
    const out = join(dir, 'out');
    const result = await getFiles(fake.asClient(), { repo: 'r', path: '/data', recursive: true, output: out, smallFileBytes: 100_000 });
    expect(result).toMatchObject({ files: 4, bytes: 200_012, output: out });
    expect(await readFile(join(out, 'big.bin'))).toEqual(await readFile(join(dir, 'src/big.bin')));
    expect(await readFile(join(out, 'sub/copy.txt'), 'utf8')).toBe('hello\n');
    expect(await readFile(join(out, 'empty'), 'utf8')).toBe('');
  });

  it('writes a single file to -o, into a directory when -o is one', async () => {
    const fake = new FakeClient();
    await put(fake);
    await getFiles(fake.asClient(), { repo: 'r', path: '/data/big.bin', output: join(dir, 'one.bin') });
    expect(await readFile(join(dir, 'one.bin'))).toEqual(await readFile(join(dir, 'src/big.bin')));
    await getFiles(fake.asClient(), { repo: 'r', path: '/data/big.bin', output: join(dir, 'src') });
    expect(await readdir(join(dir, 'src'))).toContain('big.bin');
  });

  it('refuses a directory without recursive (E_NOT_A_FILE)', async () => {
    const fake = new FakeClient();
    await put(fake);
    await expect(getFiles(fake.asClient(), { repo: 'r', path: '/data', output: join(dir, 'x') })).rejects.toMatchObject({ code: 'E_NOT_A_FILE' });
  });

  it('fails with E_CORRUPT_OBJECT naming the path, and leaves no file or temp file behind', async () => {
    const fake = new FakeClient();
    await put(fake);
    fake.corrupt = fake.files.get('/data/big.bin')!.chunks[3]![0];
    const target = join(dir, 'bad.bin');
    await expect(getFiles(fake.asClient(), { repo: 'r', path: '/data/big.bin', output: target })).rejects.toMatchObject({
      code: 'E_CORRUPT_OBJECT',
      details: { path: '/data/big.bin' },
    });
    expect((await readdir(dir)).filter((n) => n.includes('bad.bin'))).toEqual([]);
  });

  it('detects corruption in batched small files too', async () => {
    const fake = new FakeClient();
    await put(fake);
    fake.corrupt = fake.files.get('/data/sub/small.txt')!.chunks[0]![0];
    const out = join(dir, 'out');
    await expect(getFiles(fake.asClient(), { repo: 'r', path: '/data/sub', recursive: true, output: out })).rejects.toMatchObject({
      code: 'E_CORRUPT_OBJECT',
      details: { path: '/data/sub/copy.txt' }, // the first of the two files sharing the chunk
    });
    const left = await readdir(out, { recursive: true });
    expect(left.filter((n) => n.endsWith('.txt') || n.includes('datactl-tmp'))).toEqual([]);
  });
});
