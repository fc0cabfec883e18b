import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3Hex } from '../../src/hash/blake3.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { slowGet } from '../helpers/slow-get.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { putFilesViaApi } from '../helpers/upload.js';

let server: TestServer;
const get = (url: string, headers?: Record<string, string>) => api(server.url, 'GET', url, undefined, headers);
const big = seededBytes(3, 5 * 1024 * 1024 + 123);

beforeAll(async () => {
  server = await startTestServer();
  await api(server.url, 'POST', '/v1/repos', { name: 'fs' });
  await putFilesViaApi(server.url, 'fs', 'main', { '/data/big.bin': big, '/data/a.csv': 'a,b\n1,2\n', '/readme.md': '# hi\n' });
  await putFilesViaApi(server.url, 'fs', 'main', { '/data/a.csv': 'a,b\n1,2\n3,4\n', '/data/new.csv': 'n\n' });
  await api(server.url, 'DELETE', '/v1/repos/fs/branches/main/file?path=/readme.md');
});
afterAll(() => server.close());

describe('reading files', () => {
  it('streams a file with its content hash as ETag and headers naming the commit', async () => {
    const res = await fetch(`${server.url}/v1/repos/fs/commits/main/file?path=/data/big.bin`);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(big)).toBe(true);
    expect(res.headers.get('etag')).toBe(`"${blake3Hex(big)}"`);
    expect(res.headers.get('content-length')).toBe(String(big.length));
    const head = (await get('/v1/repos/fs/branches/main')).json.head;
    expect(res.headers.get('x-datactl-commit')).toBe(head);
  });

  it('answers If-None-Match with 304', async () => {
    const res = await get('/v1/repos/fs/commits/main/file?path=/data/big.bin', { 'if-none-match': `"${blake3Hex(big)}"` });
    expect(res.status).toBe(304);
  });

  it.each([
    ['bytes=0-0', 0, 0],
    ['bytes=1048570-3000000', 1048570, 3000000],
    ['bytes=5000000-', 5000000, big.length - 1],
    ['bytes=-10', big.length - 10, big.length - 1],
  ])('serves the range %s across chunk boundaries', async (range, start, end) => {
    const res = await fetch(`${server.url}/v1/repos/fs/commits/main/file?path=/data/big.bin`, { headers: { range } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/${big.length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(big.subarray(start, end + 1))).toBe(true);
  });

  it('answers a range outside the file with 416', async () => {
    const res = await get('/v1/repos/fs/commits/main/file?path=/data/a.csv', { range: 'bytes=100-200' });
    expect(res.status).toBe(416);
    expect(res.json.error.code).toBe('E_RANGE_NOT_SATISFIABLE');
  });

  it('reads old versions through refs', async () => {
    expect((await get('/v1/repos/fs/commits/main~2/file?path=/data/a.csv')).text).toBe('a,b\n1,2\n');
    expect((await get('/v1/repos/fs/commits/main/file?path=/data/a.csv')).text).toBe('a,b\n1,2\n3,4\n');
  });

  it('answers HEAD with the headers of a GET and no body', async () => {
    const res = await fetch(`${server.url}/v1/repos/fs/commits/main/file?path=/data/big.bin`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(big.length));
    expect(res.headers.get('etag')).toBe(`"${blake3Hex(big)}"`);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('sends every byte of a file six times its reused read buffers to a client that reads slowly', async () => {
    // The server reads 4 MiB runs into a few buffers it reuses once the socket has written them
    // (the release contract itself: send-pieces.test.ts). Here, the whole route under
    // backpressure: every piece arrives intact and in order, twice, the second read starting
    // from buffers the first gave back.
    const large = seededBytes(11, 24 * 1024 * 1024 + 7);
    await putFilesViaApi(server.url, 'fs', 'large', { '/large.bin': large });
    for (let read = 0; read < 2; read++) {
      const res = await slowGet(`${server.url}/v1/repos/fs/commits/large/file?path=/large.bin`);
      expect(res.complete).toBe(true);
      expect(res.body.length).toBe(large.length);
      expect(blake3Hex(res.body)).toBe(blake3Hex(large));
    }
  });

  it('names what is missing: unknown path, directory instead of file', async () => {
    const gone = await get('/v1/repos/fs/commits/main/file?path=/readme.md');
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe('E_PATH_NOT_FOUND');
    expect(gone.json.error.message).toMatch(/^\/readme\.md not found at commit [0-9a-f]{12}$/);
    const dir = await get('/v1/repos/fs/commits/main/file?path=/data');
    expect(dir.status).toBe(422);
    expect(dir.json.error.code).toBe('E_NOT_A_FILE');
  });
});

describe('listing', () => {
  it('lists a directory with sizes and hashes, chunk lists on request', async () => {
    const res = await get('/v1/repos/fs/commits/main/tree?path=/data&manifests=1');
    expect(res.json.entries.map((e: any) => e.name)).toEqual(['a.csv', 'big.bin', 'new.csv']);
    const a = res.json.entries[0];
    expect(a).toMatchObject({ path: '/data/a.csv', type: 'file', size: 12, hash: blake3Hex('a,b\n1,2\n3,4\n') });
    expect(a.chunks).toEqual([[blake3Hex('a,b\n1,2\n3,4\n'), 12]]);
  });

  it('pages a large directory with a cursor', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 250; i++) files[`/many/f${String(i).padStart(3, '0')}`] = `file ${i}`;
    await putFilesViaApi(server.url, 'fs', 'wide', files);
    const names: string[] = [];
    let cursor = '';
    do {
      const res = await get(`/v1/repos/fs/commits/wide/tree?path=/many&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      names.push(...res.json.entries.map((e: any) => e.name));
      cursor = res.json.nextCursor ?? '';
    } while (cursor);
    expect(names).toEqual(Object.keys(files).map((p) => p.slice(6)));
  });

  it('refuses to list a file as a directory', async () => {
    expect((await get('/v1/repos/fs/commits/main/tree?path=/data/a.csv')).json.error.code).toBe('E_NOT_A_DIRECTORY');
  });
});

describe('diff', () => {
  it('reports added, modified and deleted paths with sizes and hashes, in path order', async () => {
    const res = await get('/v1/repos/fs/diff?from=main~2&to=main');
    expect(res.json.changes).toEqual([
      { type: 'modified', path: '/data/a.csv', size: 12, hash: blake3Hex('a,b\n1,2\n3,4\n'), oldSize: 8, oldHash: blake3Hex('a,b\n1,2\n') },
      { type: 'added', path: '/data/new.csv', size: 2, hash: blake3Hex('n\n') },
      { type: 'deleted', path: '/readme.md', oldSize: 5, oldHash: blake3Hex('# hi\n') },
    ]);
  });

  it('orders /a/b before /a.txt, as trees do, and pages without gaps', async () => {
    await putFilesViaApi(server.url, 'fs', 'order', { '/a.txt': '1', '/a/b': '2', '/a/c': '3', '/b': '4' });
    await putFilesViaApi(server.url, 'fs', 'order', { '/a.txt': '5', '/a/b': '6', '/a/c': '7', '/b': '8' });
    const all: string[] = [];
    let cursor = '';
    do {
      const res = await get(`/v1/repos/fs/diff?from=order~1&to=order&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...res.json.changes.map((c: any) => c.path));
      cursor = res.json.nextCursor ?? '';
    } while (cursor);
    expect(all).toEqual(['/a/b', '/a/c', '/a.txt', '/b']);
  });
});

describe('deleting paths', () => {
  it('deletes a whole directory as one commit', async () => {
    await putFilesViaApi(server.url, 'fs', 'del', { '/d/1': '1', '/d/2': '2', '/keep': 'k' });
    const res = await api(server.url, 'DELETE', '/v1/repos/fs/branches/del/file?path=/d');
    expect(res.status).toBe(201);
    expect((await get('/v1/repos/fs/commits/del/tree')).json.entries.map((e: any) => e.name)).toEqual(['keep']);
  });

  it('answers deleting an absent path with 404 and makes no commit', async () => {
    const head = (await get('/v1/repos/fs/branches/del')).json.head;
    const res = await api(server.url, 'DELETE', '/v1/repos/fs/branches/del/file?path=/nope');
    expect(res.status).toBe(404);
    expect(res.json.error.message).toBe('cannot delete /nope: no such file or directory');
    expect((await get('/v1/repos/fs/branches/del')).json.head).toBe(head);
  });
});

describe('health', () => {
  it('answers /healthz when the stores are usable', async () => {
    expect((await get('/healthz')).json).toEqual({ ok: true });
  });
});
