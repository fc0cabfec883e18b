/** The streamed form of POST /v1/repos/:repo/commits: a header line, then one change per line. */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkerId, DEFAULT_CHUNKER_PARAMS } from '../../src/chunking/index.js';
import { blake3Hex } from '../../src/hash/blake3.js';
import type { Manifest } from '../../src/objects/manifest.js';
import { STAGE_GROUP } from '../../src/ops/stage-changes.js';
import type { ChunkHash } from '../../src/types.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { chunkBytes, uploadChunks } from '../helpers/upload.js';

let server: TestServer;
const get = (url: string) => api(server.url, 'GET', url);
const head = async (branch: string) => (await get(`/v1/repos/nd/branches/${branch}`)).json.head as string;

beforeAll(async () => {
  server = await startTestServer();
  await api(server.url, 'POST', '/v1/repos', { name: 'nd' });
});
afterAll(() => server.close());

type Change = { op: 'put'; path: string; manifest: Manifest } | { op: 'delete'; path: string };

/** Files small enough to be one chunk each: the chunk's hash is the file's. */
function tinyFile(text: string) {
  const bytes = Buffer.from(text);
  const hash = blake3Hex(bytes);
  const manifest: Manifest = { size: bytes.length, hash, chunker: chunkerId(DEFAULT_CHUNKER_PARAMS), chunks: [[hash, bytes.length]] };
  return { manifest, chunk: { hash: hash as ChunkHash, bytes } };
}

/** `n` uploaded tiny files as put changes under `dir`. */
async function uploadedFiles(dir: string, n: number): Promise<Change[]> {
  const files = Array.from({ length: n }, (_, i) => ({ path: `${dir}/f${i}.txt`, ...tinyFile(`${dir} file ${i}\n`) }));
  const up = await uploadChunks(server.url, 'nd', files.map((f) => f.chunk));
  expect(up.status).toBe(200);
  return files.map((f) => ({ op: 'put', path: f.path, manifest: f.manifest }));
}

const ndjson = (header: unknown, lines: unknown[]) => [header, ...lines].map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
const postNdjson = (body: string) => api(server.url, 'POST', '/v1/repos/nd/commits', body, { 'content-type': 'application/x-ndjson' });
const header = (branch: string, extra: Record<string, unknown> = {}) => ({ branch, message: 'nd', author: 'test', ...extra });

describe('NDJSON commits', () => {
  it('makes the same tree as the JSON form for the same changes', async () => {
    const changes = await uploadedFiles('/same', 50);
    const viaJson = await api(server.url, 'POST', '/v1/repos/nd/commits', { ...header('json'), changes });
    const viaNdjson = await postNdjson(ndjson(header('ndjson'), changes));
    expect(viaJson.status).toBe(201);
    expect(viaNdjson.status).toBe(201);
    expect(viaNdjson.json.commit.tree).toBe(viaJson.json.commit.tree);
    expect(viaNdjson.json.commit).toMatchObject({ message: 'nd', author: 'test', parents: [] });
  });

  it('applies deletes, skips blank lines, accepts CRLF line ends and a charset parameter', async () => {
    const changes = await uploadedFiles('/mixed', 3);
    await postNdjson(ndjson(header('mixed'), changes));
    const body = `${JSON.stringify(header('mixed'))}\r\n\r\n${JSON.stringify({ op: 'delete', path: '/mixed/f1.txt' })}\r\n`;
    const res = await api(server.url, 'POST', '/v1/repos/nd/commits', body, { 'content-type': 'application/x-ndjson; charset=utf-8' });
    expect(res.status).toBe(201);
    const listing = await get('/v1/repos/nd/commits/mixed/tree?path=/mixed');
    expect(listing.json.entries.map((e: { name: string }) => e.name)).toEqual(['f0.txt', 'f2.txt']);
  });

  it.each([
    ['a header that is not JSON', '{"branch": "main"\n', /^line 1: not valid JSON/],
    ['a header that is not an object', '["main"]\n', /^line 1: the header must be a JSON object$/],
    ['a header carrying the changes', '{"branch": "main", "changes": []}\n', /^line 1: "changes" does not go in the header/],
    ['an empty body', '\n\n', /^empty body: the first line must be the commit header$/],
    ['a header with a __proto__ key, as the JSON form refuses', '{"branch": "main", "metadata": {"__proto__": {"x": 1}}}\n', /^line 1: the header has a forbidden "__proto__" key$/],
  ])('rejects %s with 400 E_BAD_REQUEST', async (_what, body, message) => {
    const res = await postNdjson(body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('E_BAD_REQUEST');
    expect(res.json.error.message).toMatch(message);
  });

  it('rejects an invalid branch name in the header, naming line 1', async () => {
    const res = await postNdjson(ndjson(header('no good'), []));
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'E_INVALID_NAME', details: { line: 1 } });
  });

  describe('a bad line after many good ones rejects the whole commit', () => {
    // More good lines than one group, so some manifests were already stored when the bad line came.
    let good: Change[];
    let before: string;
    beforeAll(async () => {
      good = await uploadedFiles('/many', STAGE_GROUP + 20);
      await postNdjson(ndjson(header('guarded'), good.slice(0, 1)));
      before = await head('guarded');
    });
    const manifestOf = (c: Change) => (c as { manifest: Manifest }).manifest;

    const badLines: Array<[string, () => unknown, number, string, RegExp]> = [
      ['malformed JSON', () => '{"op": "put", "path": ', 400, 'E_BAD_REQUEST', /not valid JSON/],
      ['an unknown op', () => ({ op: 'move', path: '/x' }), 400, 'E_BAD_REQUEST', /change\.op must be "put" or "delete"/],
      ['a bad path', () => ({ op: 'delete', path: '/a/../b' }), 400, 'E_INVALID_PATH', /invalid path/],
      // Bytes \xff\xfe in the body decode to U+FFFD, as these do.
      ['a path that was not UTF-8', () => ({ op: 'delete', path: '/a/\ufffd\ufffd' }), 400, 'E_INVALID_PATH', /not valid Unicode/],
      ['a manifest whose sizes do not add up', () => ({ op: 'put', path: '/bad', manifest: { ...manifestOf(good[0]!), size: 999 } }), 422, 'E_INVALID_MANIFEST', /manifest for \/bad: chunk sizes add up to/],
    ];
    it.each(badLines)('%s: %i %s naming the line, head unchanged', async (_what, bad, status, code, message) => {
      const res = await postNdjson(ndjson(header('guarded'), [...good, bad(), ...good.slice(0, 5)]));
      const lineNo = good.length + 2; // the header is line 1
      expect(res.status).toBe(status);
      expect(res.json.error.code).toBe(code);
      expect(res.json.error.message).toMatch(new RegExp(`^line ${lineNo}: `));
      expect(res.json.error.message).toMatch(message);
      expect(res.json.error.details.line).toBe(lineNo);
      expect(await head('guarded')).toBe(before);
    });

    it('a path given twice: 400, head unchanged', async () => {
      const res = await postNdjson(ndjson(header('guarded'), [...good, good[3]!]));
      expect(res.status).toBe(400);
      expect(res.json.error.message).toBe('path /many/f3.txt is changed twice in one commit');
      expect(await head('guarded')).toBe(before);
    });

    it('overlapping paths, in either order: 400, head unchanged', async () => {
      const below = await postNdjson(ndjson(header('guarded'), [...good, { op: 'delete', path: '/many' }]));
      expect(below.status).toBe(400);
      expect(below.json.error.message).toBe('changes to /many/f0.txt and /many overlap in one commit');
      const above = await postNdjson(ndjson(header('guarded'), [{ op: 'delete', path: '/many/f1.txt' }, ...good.slice(2), { ...good[0]!, path: '/many/f1.txt/x/y' }]));
      expect(above.status).toBe(400);
      expect(above.json.error.message).toBe('changes to /many/f1.txt and /many/f1.txt/x/y overlap in one commit');
      expect(await head('guarded')).toBe(before);
    });

    it('chunks the repo does not hold: 422 listing them, head unchanged', async () => {
      const ghost = chunkBytes(Buffer.from('never uploaded')).manifest;
      const res = await postNdjson(ndjson(header('guarded'), [...good, { op: 'put', path: '/ghost', manifest: ghost }]));
      expect(res.status).toBe(422);
      expect(res.json.error).toMatchObject({ code: 'E_CHUNKS_MISSING', details: { missing: [ghost.chunks[0]![0]], count: 1 } });
      expect(await head('guarded')).toBe(before);
    });
  });

  it('rejects a stale expected parent with 409 before reading the changes', async () => {
    const [first, second] = await uploadedFiles('/cas', 2);
    const one = await postNdjson(ndjson(header('cas'), [first]));
    await postNdjson(ndjson(header('cas'), [second]));
    const stale = await postNdjson(ndjson(header('cas', { parent: one.json.commit.id }), [{ op: 'delete', path: '/cas/f0.txt' }]));
    expect(stale.status).toBe(409);
    expect(stale.json.error).toMatchObject({ code: 'E_CONFLICT', details: { expected: one.json.commit.id } });
    const fresh = await postNdjson(ndjson(header('cas', { parent: await head('cas') }), [{ op: 'delete', path: '/cas/f0.txt' }]));
    expect(fresh.status).toBe(201);
  });

  describe('answers an error while the client is still sending, and the connection stays usable', () => {
    // 8 MiB of valid-looking lines after the point of failure: more than socket buffers hold.
    const filler = `${JSON.stringify({ op: 'delete', path: '/nothing/here' })}\n`.repeat(200_000);

    it.each([
      ['a bad line 2', `${JSON.stringify(header('early'))}\n{"op":\n`, 400, /^line 2: not valid JSON/],
      ['a stale parent in the header', `${JSON.stringify(header('early', { parent: 'a'.repeat(64) }))}\n`, 409, /not the expected parent/],
      ['an unknown repo', `${JSON.stringify(header('early'))}\n`, 404, /repo "nope" not found/],
    ])('%s', async (what, start, status, message) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const repo = what === 'an unknown repo' ? 'nope' : 'nd';
        const res = await rawPost(agent, repo, [start, filler]);
        expect(res.status).toBe(status);
        expect(JSON.parse(res.body).error.message).toMatch(message);
        const again = await rawPost(agent, 'nd', [ndjson(header('early'), [{ op: 'delete', path: '/nothing' }])]);
        expect(again.status).toBe(404);
        expect(JSON.parse(again.body).error.code).toBe('E_PATH_NOT_FOUND');
      } finally {
        agent.destroy();
      }
    });
  });
});

function rawPost(agent: http.Agent, repo: string, pieces: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}/v1/repos/${repo}/commits`, { method: 'POST', agent, headers: { 'content-type': 'application/x-ndjson' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    for (const p of pieces) req.write(p);
    req.end();
  });
}
