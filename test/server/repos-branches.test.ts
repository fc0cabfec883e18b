import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3Hex } from '../../src/hash/blake3.js';
import { keys } from '../../src/meta/keys.js';
import { LevelMetaStore } from '../../src/meta/level-meta.js';
import type { RepoName } from '../../src/types.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { putFilesViaApi } from '../helpers/upload.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('every answer', () => {
  it("carries datactl's API header, so a client can tell a datactl server from whatever else answers", async () => {
    const answers = [
      await api(server.url, 'POST', '/v1/repos', { name: 'headers' }),
      await api(server.url, 'GET', '/v1/repos'),
      await api(server.url, 'GET', '/v1/repos/no-such-repo'),
      await api(server.url, 'GET', '/v1/no/such/route'),
      await api(server.url, 'POST', '/v1/repos', '{not json', { 'content-type': 'application/json' }),
      await api(server.url, 'GET', '/healthz'),
    ];
    await putFilesViaApi(server.url, 'headers', 'main', { '/f.txt': 'bytes' });
    answers.push(await api(server.url, 'GET', '/v1/repos/headers/commits/main/file?path=/f.txt'));
    expect(answers.map((a) => a.status)).toEqual([201, 200, 404, 404, 400, 200, 200]);
    for (const a of answers) expect(a.headers.get('x-datactl-api')).toBe('1');
  });
});

describe('repos', () => {
  it('creates, inspects, lists and deletes a repo', async () => {
    const created = await api(server.url, 'POST', '/v1/repos', { name: 'images', description: 'cats' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'images', description: 'cats', branches: 0 });
    expect((await api(server.url, 'GET', '/v1/repos/images')).json.name).toBe('images');
    expect((await api(server.url, 'GET', '/v1/repos')).json.repos.map((r: any) => r.name)).toContain('images');
    expect((await api(server.url, 'DELETE', '/v1/repos/images')).status).toBe(204);
    const gone = await api(server.url, 'GET', '/v1/repos/images');
    expect(gone.status).toBe(404);
    expect(gone.json.error).toEqual({ code: 'E_REPO_NOT_FOUND', message: 'repo "images" not found', details: { repo: 'images' } });
  });

  it('refuses a second repo with the same name', async () => {
    await api(server.url, 'POST', '/v1/repos', { name: 'dup' });
    const again = await api(server.url, 'POST', '/v1/repos', { name: 'dup' });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe('E_REPO_EXISTS');
  });

  it.each(['', '-lead', 'a b', 'a/b', 'a:b', '..', 'x..y', 'name.lock', 'a'.repeat(101), 'ünï'])('rejects the repo name %j', async (name) => {
    const res = await api(server.url, 'POST', '/v1/repos', { name });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('E_INVALID_NAME');
  });

  it('pages through repos with a cursor', async () => {
    for (const n of ['p1', 'p2', 'p3', 'p4', 'p5']) await api(server.url, 'POST', '/v1/repos', { name: n });
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const res: any = await api(server.url, 'GET', `/v1/repos?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.json.repos.length).toBeLessThanOrEqual(2);
      seen.push(...res.json.repos.map((r: any) => r.name));
      cursor = res.json.nextCursor;
    }
    expect(seen.filter((n) => n.startsWith('p'))).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('rejects a JSON body over 1 MiB with 413', async () => {
    const res = await api(server.url, 'POST', '/v1/repos', { name: 'big', description: 'x'.repeat(2 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(res.json.error.code).toBe('E_PAYLOAD_TOO_LARGE');
    expect((await api(server.url, 'GET', '/v1/repos/big')).status).toBe(404);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await api(server.url, 'GET', '/v1/nope');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('E_NOT_FOUND');
  });
});

describe('branches', () => {
  beforeAll(async () => {
    await api(server.url, 'POST', '/v1/repos', { name: 'br' });
    await putFilesViaApi(server.url, 'br', 'main', { '/a.txt': 'one' });
  });

  it('creates an empty branch and a branch at a ref', async () => {
    const empty = await api(server.url, 'POST', '/v1/repos/br/branches', { name: 'scratch' });
    expect(empty.status).toBe(201);
    expect(empty.json.head).toBeNull();
    const main = await api(server.url, 'GET', '/v1/repos/br/branches/main');
    const dev = await api(server.url, 'POST', '/v1/repos/br/branches', { name: 'dev', head: 'main' });
    expect(dev.json.head).toBe(main.json.head);
    const list = await api(server.url, 'GET', '/v1/repos/br/branches');
    expect(list.json.branches.map((b: any) => b.name)).toEqual(['dev', 'main', 'scratch']);
  });

  it('refuses a duplicate branch, an unknown head ref and an unknown repo', async () => {
    expect((await api(server.url, 'POST', '/v1/repos/br/branches', { name: 'main' })).json.error.code).toBe('E_BRANCH_EXISTS');
    const badRef = await api(server.url, 'POST', '/v1/repos/br/branches', { name: 'x', head: 'nosuch' });
    expect(badRef.status).toBe(404);
    expect(badRef.json.error.message).toBe('no branch or commit "nosuch" in repo "br"');
    expect((await api(server.url, 'GET', '/v1/repos/none/branches')).json.error.code).toBe('E_REPO_NOT_FOUND');
  });

  it('deletes a branch; deleting it again is a 404 naming the branch', async () => {
    await api(server.url, 'POST', '/v1/repos/br/branches', { name: 'tmp' });
    expect((await api(server.url, 'DELETE', '/v1/repos/br/branches/tmp')).status).toBe(204);
    const again = await api(server.url, 'DELETE', '/v1/repos/br/branches/tmp');
    expect(again.status).toBe(404);
    expect(again.json.error).toMatchObject({ code: 'E_BRANCH_NOT_FOUND', message: 'branch "tmp" not found in repo "br"' });
  });

  it('does not resurrect branches when a deleted repo is re-created', async () => {
    await api(server.url, 'POST', '/v1/repos', { name: 'phoenix' });
    await putFilesViaApi(server.url, 'phoenix', 'main', { '/x': 'x' });
    await api(server.url, 'DELETE', '/v1/repos/phoenix');
    await api(server.url, 'POST', '/v1/repos', { name: 'phoenix' });
    expect((await api(server.url, 'GET', '/v1/repos/phoenix/branches')).json.branches).toEqual([]);
    const missing = await api(server.url, 'POST', '/v1/repos/phoenix/chunks/missing', { hashes: ['0'.repeat(64)] });
    expect(missing.json.missing).toEqual(['0'.repeat(64)]);
  });

  it('does not resurrect anything when a delete was cut short after removing the repo record', async () => {
    // A delete removes the record first, then the repo's branches, commits, chunk presence,
    // contracts and webhooks; a crash or a full disk in between leaves those. That state, on disk:
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'datactl-cut-delete-'));
    try {
      let s = await startTestServer({ dataDir });
      await api(s.url, 'POST', '/v1/repos', { name: 'cut' });
      const put = await putFilesViaApi(s.url, 'cut', 'main', { '/x': 'old bytes' });
      const hook = await api(s.url, 'POST', '/v1/repos/cut/webhooks', { url: 'http://127.0.0.1:9/hook', secret: 's3cret' });
      expect(hook.status).toBe(201);
      await s.close();
      const meta = await LevelMetaStore.open(path.join(dataDir, 'meta'));
      await meta.batch([{ type: 'del', key: keys.repo('cut' as RepoName) }]);
      await meta.close();

      s = await startTestServer({ dataDir });
      try {
        expect((await api(s.url, 'POST', '/v1/repos', { name: 'cut' })).status).toBe(201);
        expect((await api(s.url, 'GET', '/v1/repos/cut/branches')).json.branches).toEqual([]);
        expect((await api(s.url, 'GET', `/v1/repos/cut/commits/${put.json.commit.id}`)).status).toBe(404);
        const oldChunk = blake3Hex(Buffer.from('old bytes'));
        expect((await api(s.url, 'POST', '/v1/repos/cut/chunks/missing', { hashes: [oldChunk] })).json.missing).toEqual([oldChunk]);
        expect((await api(s.url, 'GET', '/v1/repos/cut/webhooks')).json.webhooks).toEqual([]);
      } finally {
        await s.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
