import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMPTY_HASH } from '../../src/hash/blake3.js';
import { keys } from '../../src/meta/keys.js';
import { manifestId, type Manifest } from '../../src/objects/manifest.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { chunkBytes, putFilesViaApi, uploadChunks } from '../helpers/upload.js';

let server: TestServer;
const get = (url: string) => api(server.url, 'GET', url);

beforeAll(async () => {
  server = await startTestServer();
  await api(server.url, 'POST', '/v1/repos', { name: 'ds' });
});
afterAll(() => server.close());

describe('commits', () => {
  it('commits many changes atomically and creates the branch on first use', async () => {
    const res = await putFilesViaApi(server.url, 'ds', 'atomic', { '/a/1.csv': 'one', '/a/2.csv': 'two', '/b.txt': 'bee' });
    expect(res.status).toBe(201);
    expect(res.json.commit).toMatchObject({ repo: 'ds', parents: [], author: 'test' });
    expect(res.json.commit.id).toMatch(/^[0-9a-f]{64}$/);
    const root = await get(`/v1/repos/ds/commits/atomic/tree`);
    expect(root.json.entries.map((e: any) => [e.name, e.type, e.size])).toEqual([['a', 'dir', 6], ['b.txt', 'file', 3]]);
  });

  it('makes no commit when nothing changed and says so', async () => {
    await putFilesViaApi(server.url, 'ds', 'noop', { '/x': 'same' });
    const head = (await get('/v1/repos/ds/branches/noop')).json.head;
    const again = await putFilesViaApi(server.url, 'ds', 'noop', { '/x': 'same' });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ created: false, commit: { id: head } });
    expect((await get('/v1/repos/ds/branches/noop')).json.head).toBe(head);
  });

  it('rejects a commit whose expected parent is no longer the head with 409, and accepts the right one', async () => {
    const first = await putFilesViaApi(server.url, 'ds', 'cas', { '/v': '1' });
    await putFilesViaApi(server.url, 'ds', 'cas', { '/v': '2' });
    const stale = await putFilesViaApi(server.url, 'ds', 'cas', { '/v': '3' }, { parent: first.json.commit.id });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe('E_CONFLICT');
    const head = (await get('/v1/repos/ds/branches/cas')).json.head;
    const fresh = await putFilesViaApi(server.url, 'ds', 'cas', { '/v': '3' }, { parent: head });
    expect(fresh.status).toBe(201);
    expect(fresh.json.commit.parents).toEqual([head]);
  });

  it('loses no commit when 8 clients commit to one branch at once', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => putFilesViaApi(server.url, 'ds', 'busy', { [`/client-${i}.txt`]: `from ${i}` })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    const log = await get('/v1/repos/ds/commits?ref=busy');
    expect(log.json.commits).toHaveLength(8);
    expect(new Set(log.json.commits.map((c: any) => c.id))).toEqual(new Set(results.map((r) => r.json.commit.id)));
    const files = await get('/v1/repos/ds/commits/busy/tree');
    expect(files.json.entries).toHaveLength(8);
  });

  it('rejects a commit that refers to chunks the repo does not hold with 422 and moves nothing', async () => {
    const { manifest } = chunkBytes(Buffer.from('never uploaded'));
    const res = await api(server.url, 'POST', '/v1/repos/ds/commits', { branch: 'main', changes: [{ op: 'put', path: '/ghost', manifest }] });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('E_CHUNKS_MISSING');
    expect(res.json.error.details.missing).toEqual([manifest.chunks[0]![0]]);
    expect((await get('/v1/repos/ds/branches/main')).status).toBe(404);
  });

  it('rejects inconsistent manifests', async () => {
    const { manifest, chunks } = chunkBytes(Buffer.from('abc'));
    await uploadChunks(server.url, 'ds', chunks);
    const wrongSize = { ...manifest, size: 4 };
    const res = await api(server.url, 'POST', '/v1/repos/ds/commits', { branch: 'm', changes: [{ op: 'put', path: '/f', manifest: wrongSize }] });
    expect(res.status).toBe(422);
    expect(res.json.error.message).toBe('manifest for /f: chunk sizes add up to 3, not the declared size 4');
  });

  it('refuses an empty author with 400 and moves nothing; a missing one is "unknown"', async () => {
    for (const author of ['', '   ']) {
      const res = await putFilesViaApi(server.url, 'ds', 'authors', { '/a': 'x' }, { author });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 'E_BAD_REQUEST', message: expect.stringContaining('"author" must not be empty') });
    }
    expect((await get('/v1/repos/ds/branches/authors')).status).toBe(404);
    const res = await putFilesViaApi(server.url, 'ds', 'authors', { '/a': 'x' }, { author: undefined });
    expect(res.status).toBe(201);
    expect(res.json.commit.author).toBe('unknown');
    // The query-string writes too: a server-side put and a delete.
    const head = res.json.commit.id;
    for (const [method, url, body] of [
      ['PUT', '/v1/repos/ds/branches/authors/file?path=/b&author=%20', 'bytes'],
      ['DELETE', '/v1/repos/ds/branches/authors/file?path=/a&author=', undefined],
    ] as const) {
      const refused = await api(server.url, method, url, body, body ? { 'content-type': 'application/octet-stream' } : {});
      expect(refused.status, url).toBe(400);
      expect(refused.json.error.message).toContain('"author" must not be empty');
    }
    expect((await get('/v1/repos/ds/branches/authors')).json.head).toBe(head);
  });

  it('commits an empty file', async () => {
    const res = await putFilesViaApi(server.url, 'ds', 'empty', { '/zero': '' });
    expect(res.status).toBe(201);
    const stat = await get('/v1/repos/ds/commits/empty/stat?path=/zero');
    expect(stat.json.entry).toMatchObject({ size: 0, hash: EMPTY_HASH, chunks: [] });
    expect((await get('/v1/repos/ds/commits/empty/file?path=/zero')).text).toBe('');
  });

  it.each([
    ['/a/../b', 'E_INVALID_PATH'],
    ['/a\\b', 'E_INVALID_PATH'],
    ['/a//b', 'E_INVALID_PATH'],
    ['/a/\u0000b', 'E_INVALID_PATH'],
    ['/./a', 'E_INVALID_PATH'],
    // Names that were not UTF-8 (decoded to U+FFFD) or lone surrogates: distinct names would collapse.
    ['/a/\ufffd\ufffd', 'E_INVALID_PATH'],
    ['/a/x\ud800', 'E_INVALID_PATH'],
  ])('rejects the path %j with 400 %s', async (path, code) => {
    const { manifest, chunks } = chunkBytes(Buffer.from('p'));
    await uploadChunks(server.url, 'ds', chunks);
    const res = await api(server.url, 'POST', '/v1/repos/ds/commits', { branch: 'paths', changes: [{ op: 'put', path, manifest }] });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe(code);
  });

  it('refuses to put a file where a directory is', async () => {
    await putFilesViaApi(server.url, 'ds', 'shape', { '/d/f': 'f' });
    const res = await putFilesViaApi(server.url, 'ds', 'shape', { '/d': 'file over dir' });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('E_PATH_CONFLICT');
  });
});

describe('manifests against the stored chunks', () => {
  it("refuses chunk sizes that are not the stored chunks' lengths, which would serve other bytes than promised", async () => {
    const { manifest, chunks } = chunkBytes(Buffer.from('hello'));
    expect((await uploadChunks(server.url, 'ds', chunks)).status).toBe(200);
    const hash = manifest.chunks[0]![0];
    for (const size of [3, 9]) {
      const res = await api(server.url, 'POST', '/v1/repos/ds/commits', {
        branch: 'lengths', message: 'm', author: 'test',
        changes: [{ op: 'put', path: '/h.txt', manifest: { ...manifest, size, chunks: [[hash, size]] } }],
      });
      expect(res.status).toBe(422);
      expect(res.json.error).toMatchObject({ code: 'E_INVALID_MANIFEST', message: `manifest for /h.txt: chunk ${hash} is 5 bytes in the store, not ${size}` });
    }
    expect((await get('/v1/repos/ds/branches/lengths')).status).toBe(404);
    // The true length commits.
    const ok = await api(server.url, 'POST', '/v1/repos/ds/commits', { branch: 'lengths', message: 'm', author: 'test', changes: [{ op: 'put', path: '/h.txt', manifest }] });
    expect(ok.status).toBe(201);
  });
});

describe('manifests a tree entry implies', () => {
  const stored = async (m: Manifest) => (await server.engine.meta.get(keys.manifest(manifestId(m)))) !== undefined;

  it('are not stored for empty and one-chunk files, and such files still read back exactly, with their chunks', async () => {
    const files = { '/one': Buffer.from('one chunk'), '/empty': Buffer.alloc(0), '/many': seededBytes(7, 9 << 20) };
    const chunked = Object.fromEntries(Object.entries(files).map(([p, b]) => [p, chunkBytes(b)]));
    expect(chunked['/many']!.manifest.chunks.length).toBeGreaterThan(1);
    expect((await putFilesViaApi(server.url, 'ds', 'implied', files)).status).toBe(201);

    expect(await stored(chunked['/one']!.manifest)).toBe(false);
    expect(await stored(chunked['/empty']!.manifest)).toBe(false);
    expect(await stored(chunked['/many']!.manifest)).toBe(true);
    for (const [path, bytes] of Object.entries(files)) {
      const res = await fetch(`${server.url}/v1/repos/ds/commits/implied/file?path=${path}`);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
      const stat = await get(`/v1/repos/ds/commits/implied/stat?path=${path}`);
      expect(stat.json.entry.chunks).toEqual(chunked[path]!.manifest.chunks);
    }
    const listing = await get('/v1/repos/ds/commits/implied/tree?manifests=true');
    expect(Object.fromEntries(listing.json.entries.map((e: any) => [`/${e.name}`, e.chunks]))).toEqual(
      Object.fromEntries(Object.entries(chunked).map(([p, c]) => [p, c.manifest.chunks])),
    );
  });

  it('are stored when cut by a chunker readers cannot assume', async () => {
    const { manifest, chunks } = chunkBytes(Buffer.from('small chunker'), { minSize: 64, avgSize: 256, maxSize: 1024 });
    await uploadChunks(server.url, 'ds', chunks);
    const res = await api(server.url, 'POST', '/v1/repos/ds/commits', { branch: 'other-chunker', changes: [{ op: 'put', path: '/f', manifest }] });
    expect(res.status).toBe(201);
    expect(await stored(manifest)).toBe(true);
    expect((await get('/v1/repos/ds/commits/other-chunker/stat?path=/f')).json.entry.chunks).toEqual(manifest.chunks);
    expect((await get('/v1/repos/ds/commits/other-chunker/file?path=/f')).text).toBe('small chunker');
  });
});

describe('refs and history', () => {
  let ids: string[] = [];
  beforeAll(async () => {
    for (let i = 1; i <= 4; i++) ids.push((await putFilesViaApi(server.url, 'ds', 'hist', { '/n': String(i) })).json.commit.id);
    ids = ids.reverse(); // newest first
  });

  it('lists the log newest first, page by page', async () => {
    const first = await get('/v1/repos/ds/commits?ref=hist&limit=3');
    expect(first.json.commits.map((c: any) => c.id)).toEqual(ids.slice(0, 3));
    const second = await get(`/v1/repos/ds/commits?ref=hist&limit=3&cursor=${first.json.nextCursor}`);
    expect(second.json.commits.map((c: any) => c.id)).toEqual(ids.slice(3));
    expect(second.json.nextCursor).toBeNull();
  });

  it('resolves a full id, an 8-digit prefix, ~N and ^', async () => {
    expect((await get(`/v1/repos/ds/commits/${ids[2]}`)).json.id).toBe(ids[2]);
    expect((await get(`/v1/repos/ds/commits/${ids[1]!.slice(0, 8)}`)).json.id).toBe(ids[1]);
    expect((await get('/v1/repos/ds/commits/hist~2')).json.id).toBe(ids[2]);
    expect((await get('/v1/repos/ds/commits/hist%5E%5E%5E')).json.id).toBe(ids[3]);
    expect((await get(`/v1/repos/ds/commits/${ids[0]!.slice(0, 10)}~1`)).json.id).toBe(ids[1]);
  });

  it('gives clear errors for unknown and malformed refs', async () => {
    const past = await get('/v1/repos/ds/commits/hist~9');
    expect(past.json.error).toMatchObject({ code: 'E_COMMIT_NOT_FOUND', message: 'ref "hist~9" goes back past the first commit of repo "ds"' });
    expect((await get('/v1/repos/ds/commits/deadbeefdeadbeef')).json.error.code).toBe('E_COMMIT_NOT_FOUND');
    expect((await get('/v1/repos/ds/commits/nosuch')).json.error.code).toBe('E_BRANCH_NOT_FOUND');
    const bad = await get('/v1/repos/ds/commits/a%20b');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('E_INVALID_REF');
  });

  it('never lets a branch take over a commit id: a full id is always its commit, and a name spelled so is refused', async () => {
    // A store written before names were checked may hold such a branch: the id still means the commit.
    await server.engine.meta.batch([{ type: 'put', key: keys.branch('ds' as never, ids[2] as never), value: JSON.stringify({ name: ids[2], head: ids[0], createdAt: new Date().toISOString() }) }]);
    expect((await get(`/v1/repos/ds/commits/${ids[2]}`)).json.id).toBe(ids[2]);
    expect((await get(`/v1/repos/ds/commits/${ids[2]}~1`)).json.id).toBe(ids[3]);
    await server.engine.meta.batch([{ type: 'del', key: keys.branch('ds' as never, ids[2] as never) }]);

    const named = await api(server.url, 'POST', '/v1/repos/ds/branches', { name: ids[1] });
    expect(named.status).toBe(400);
    expect(named.json.error).toMatchObject({ code: 'E_INVALID_NAME', message: `invalid branch name "${ids[1]}": 64 hex digits spell a commit id` });
    const put = await putFilesViaApi(server.url, 'ds', ids[1]!, { '/x': 'evil' });
    expect(put.status).toBe(400);
    expect(put.json.error.code).toBe('E_INVALID_NAME');
  });

  it('refuses a new branch spelled like a prefix of an existing commit, which it would hide', async () => {
    const prefix = ids[1]!.slice(0, 8);
    const created = await api(server.url, 'POST', '/v1/repos/ds/branches', { name: prefix });
    expect(created.status).toBe(400);
    expect(created.json.error).toMatchObject({ code: 'E_INVALID_NAME', message: `invalid branch name "${prefix}": it would hide commit ${ids[1]} of repo "ds", whose id starts so; pick another name` });
    // `put file ds@<prefix>:/x` would have created it: refused too, and the prefix still names the commit.
    const put = await putFilesViaApi(server.url, 'ds', prefix, { '/x': 'evil' });
    expect(put.json.error.code).toBe('E_INVALID_NAME');
    expect((await get(`/v1/repos/ds/commits/${prefix}`)).json.id).toBe(ids[1]);
    expect((await api(server.url, 'GET', `/v1/repos/ds/branches/${prefix}`)).status).toBe(404);
    // Hex names no commit starts with, such as a date, are branch names like any other.
    expect((await api(server.url, 'POST', '/v1/repos/ds/branches', { name: '20261204' })).status).toBe(201);
  });

  it('gives commit ids that pin content: the same tree at another time is another commit', async () => {
    const a = await get(`/v1/repos/ds/commits/${ids[0]}`);
    expect(a.json).toMatchObject({ parents: [ids[1]], message: 'put /n', author: 'test' });
    expect(new Date(a.json.createdAt).toISOString()).toBe(a.json.createdAt);
  });
});

describe('ancestry', () => {
  it('tells whether one commit is an ancestor of another', async () => {
    await putFilesViaApi(server.url, 'ds', 'anc', { '/x': '1' });
    await putFilesViaApi(server.url, 'ds', 'anc', { '/x': '2' });
    const yes = await get('/v1/repos/ds/ancestry?ancestor=anc~1&descendant=anc');
    expect(yes.json).toMatchObject({ isAncestor: true, truncated: false });
    expect((await get('/v1/repos/ds/ancestry?ancestor=anc&descendant=anc~1')).json.isAncestor).toBe(false);
    expect((await get('/v1/repos/ds/ancestry?ancestor=anc&descendant=anc')).json.isAncestor).toBe(true);
  });
});
