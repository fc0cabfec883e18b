import http from 'node:http';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3Hex } from '../../src/hash/blake3.js';
import type { ChunkHash } from '../../src/types.js';
import { encodeFrame } from '../../src/wire/frames.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { chunkBytes, frames, uploadChunks } from '../helpers/upload.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  for (const name of ['alpha', 'beta']) await api(server.url, 'POST', '/v1/repos', { name });
});
afterAll(() => server.close());

const missing = async (repo: string, hashes: string[]) => (await api(server.url, 'POST', `/v1/repos/${repo}/chunks/missing`, { hashes })).json.missing;

/** Pack files in the store once every answered upload is flushed (a chunk read waits for its repo's). */
async function packFiles(): Promise<string[]> {
  for (const repo of ['alpha', 'beta']) await api(server.url, 'POST', `/v1/repos/${repo}/chunks/read`, { hashes: [] });
  const root = path.join(server.dataDir, 'objects', 'packs');
  const out: string[] = [];
  for (const dir of await readdir(root).catch(() => [])) out.push(...(await readdir(path.join(root, dir))));
  return out.sort();
}

function chunk(text: string) {
  const bytes = Buffer.from(text);
  return { hash: blake3Hex(bytes), bytes };
}

/** Send raw body pieces with chunked encoding, optionally destroying the socket before the end. */
function rawUpload(repo: string, pieces: Buffer[], abort: boolean): Promise<{ status: number; body: string } | 'aborted'> {
  return new Promise((resolve) => {
    const url = new URL(`${server.url}/v1/repos/${repo}/chunks`);
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', () => resolve('aborted'));
    for (const p of pieces) req.write(p);
    if (abort) setImmediate(() => { req.destroy(); resolve('aborted'); });
    else req.end();
  });
}

describe('chunk negotiation', () => {
  it('reports every unknown chunk as missing and none after upload', async () => {
    const c = [chunk('one'), chunk('two'), chunk('three')];
    expect(await missing('alpha', c.map((x) => x.hash))).toEqual(c.map((x) => x.hash));
    const up = await uploadChunks(server.url, 'alpha', c);
    expect(up.json).toEqual({ received: 3, stored: 3, storedBytes: 11, deduplicated: 0 });
    expect(await missing('alpha', c.map((x) => x.hash))).toEqual([]);
  });

  it('never reveals what another repo holds, and stores shared chunks once', async () => {
    const c = [chunk('shared secret')];
    await uploadChunks(server.url, 'alpha', c);
    expect(await missing('beta', [c[0]!.hash])).toEqual([c[0]!.hash]);
    const before = await packFiles();
    const up = await uploadChunks(server.url, 'beta', c);
    expect(up.json).toMatchObject({ received: 1, stored: 0, deduplicated: 1 });
    expect(await packFiles()).toEqual(before);
    expect(await missing('beta', [c[0]!.hash])).toEqual([]);
  });

  it('does not take forged bytes for a chunk another repo holds as proof of holding it', async () => {
    const secret = chunk('alpha only: the secret');
    await uploadChunks(server.url, 'alpha', [secret]);
    const res = await uploadChunks(server.url, 'beta', [{ hash: secret.hash, bytes: Buffer.from('a guess') }]);
    expect(res.status).toBe(422);
    expect(res.json.error.details).toEqual({ claimed: secret.hash, actual: blake3Hex('a guess') });
    expect(await missing('beta', [secret.hash])).toEqual([secret.hash]);
  });

  it('rejects a request that repeats a chunk with other bytes, though the first copy is stored', async () => {
    const good = chunk('sent twice');
    const before = await packFiles();
    const res = await uploadChunks(server.url, 'alpha', [good, { hash: good.hash, bytes: Buffer.from('not the same') }]);
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('E_CHUNK_HASH_MISMATCH');
    expect(await missing('alpha', [good.hash])).toEqual([good.hash]);
    expect(await packFiles()).toEqual(before);
  });

  it('packs many small chunks into one object, not one object each', async () => {
    const many = Array.from({ length: 500 }, (_, i) => chunk(`small file number ${i}`));
    const before = (await packFiles()).length;
    await uploadChunks(server.url, 'alpha', many);
    expect((await packFiles()).length).toBe(before + 1);
  });

  it('rejects a chunk whose bytes do not match its hash, storing nothing from the request', async () => {
    const good = chunk('good bytes');
    const forged = { hash: blake3Hex('what it claims') as ChunkHash, bytes: Buffer.from('what it is') };
    const before = await packFiles();
    const res = await uploadChunks(server.url, 'alpha', [good, forged]);
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('E_CHUNK_HASH_MISMATCH');
    expect(res.json.error.details).toEqual({ claimed: forged.hash, actual: blake3Hex('what it is') });
    expect(await missing('alpha', [good.hash, forged.hash])).toEqual([good.hash, forged.hash]);
    expect(await packFiles()).toEqual(before);
  });

  it('refuses a body of another media type with 400 naming it, storing nothing', async () => {
    const good = chunk('sent as text');
    const before = await packFiles();
    const res = await api(server.url, 'POST', '/v1/repos/alpha/chunks', frames([good]), { 'content-type': 'text/plain' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'E_BAD_REQUEST', message: 'Content-Type "text/plain": this endpoint takes application/octet-stream' });
    expect(await missing('alpha', [good.hash])).toEqual([good.hash]);
    expect(await packFiles()).toEqual(before);
    // A commit likewise takes JSON or NDJSON only.
    const commit = await api(server.url, 'POST', '/v1/repos/alpha/commits', JSON.stringify({ branch: 'main', changes: [] }), { 'content-type': 'text/plain' });
    expect(commit.status).toBe(400);
    expect(commit.json.error.message).toBe('Content-Type "text/plain": this endpoint takes application/json or application/x-ndjson');
  });

  it('stores chunks that arrive split across many network reads byte for byte', async () => {
    const big = seededBytes(21, 3 * 1024 * 1024 + 5);
    const c = [chunk('before the big one'), { hash: blake3Hex(big), bytes: big }, chunk('after it')];
    const body = frames(c);
    const pieces = Array.from({ length: Math.ceil(body.length / 50_000) }, (_, i) => body.subarray(i * 50_000, (i + 1) * 50_000));
    const res = await rawUpload('alpha', pieces, false);
    expect(res).toMatchObject({ status: 200 });
    const read = await fetch(`${server.url}/v1/repos/alpha/chunks/read`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hashes: c.map((x) => x.hash) }),
    });
    expect(Buffer.from(await read.arrayBuffer()).equals(body)).toBe(true);
  });

  it('rejects a large chunk whose bytes do not match its hash, wherever the reads split it', async () => {
    const big = seededBytes(22, 2 * 1024 * 1024);
    const hash = blake3Hex(big);
    const altered = Buffer.from(big);
    altered[1_500_000]! ^= 1;
    const body = frames([{ hash, bytes: altered }]);
    const res = await rawUpload('alpha', [body.subarray(0, 70_000), body.subarray(70_000)], false);
    expect(res).toMatchObject({ status: 422 });
    expect(JSON.parse((res as { body: string }).body).error.details).toEqual({ claimed: hash, actual: blake3Hex(altered) });
    expect(await missing('alpha', [hash])).toEqual([hash]);
  });

  it('rejects a body that ends mid-frame with E_TRUNCATED_UPLOAD and indexes nothing', async () => {
    const c = chunk('will be cut');
    const body = frames([c]);
    const res = await rawUpload('alpha', [body.subarray(0, body.length - 3)], false);
    expect(res).toMatchObject({ status: 400 });
    expect(JSON.parse((res as { body: string }).body).error.code).toBe('E_TRUNCATED_UPLOAD');
    expect(await missing('alpha', [c.hash])).toEqual([c.hash]);
  });

  it('keeps nothing from an upload whose connection drops midway', async () => {
    const big = seededBytes(7, 3 * 1024 * 1024);
    const c = { hash: blake3Hex(big), bytes: big };
    const [header, bytes] = encodeFrame(c.hash, c.bytes);
    expect(await rawUpload('alpha', [header, Buffer.from(bytes).subarray(0, 1024 * 1024)], true)).toBe('aborted');
    // The server notices the abort asynchronously; the chunk must never become present.
    for (let i = 0; i < 20; i++) expect(await missing('alpha', [c.hash])).toEqual([c.hash]);
  });

  it('refuses an upload declared larger than 256 MiB with 413 before reading it', async () => {
    const res = await new Promise<number>((resolve) => {
      const req = http.request(`${server.url}/v1/repos/alpha/chunks`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(300 * 1024 * 1024) },
      }, (r) => {
        resolve(r.statusCode!);
        req.destroy();
      });
      req.on('error', () => resolve(-1));
      req.write(Buffer.alloc(1024));
    });
    expect(res).toBe(413);
  });

  it('returns chunks by hash as frames, and only chunks this repo holds', async () => {
    const c = [chunk('r1'), chunk('r2')];
    await uploadChunks(server.url, 'alpha', c);
    const res = await fetch(`${server.url}/v1/repos/alpha/chunks/read`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hashes: [c[1]!.hash, c[0]!.hash] }),
    });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(frames([c[1]!, c[0]!]));
    const other = await api(server.url, 'POST', '/v1/repos/beta/chunks/read', { hashes: [c[0]!.hash] });
    expect(other.status).toBe(404);
    expect(other.json.error.code).toBe('E_CHUNK_NOT_FOUND');
  });

  it('rejects malformed hashes', async () => {
    const res = await api(server.url, 'POST', '/v1/repos/alpha/chunks/missing', { hashes: ['XYZ'] });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('E_INVALID_HASH');
  });

  it('chunks the same bytes to the same manifest on every upload path', async () => {
    const data = seededBytes(11, 2 * 1024 * 1024 + 17);
    const { manifest } = chunkBytes(data);
    const put = await api(server.url, 'PUT', '/v1/repos/alpha/branches/main/file?path=/seeded.bin', data, { 'content-type': 'application/octet-stream' });
    expect(put.json.file).toEqual({ size: manifest.size, hash: manifest.hash, chunker: manifest.chunker });
    const stat = await api(server.url, 'GET', '/v1/repos/alpha/commits/main/stat?path=/seeded.bin');
    expect(stat.json.entry.chunks).toEqual(manifest.chunks);
  });
});

// Uploads are answered once their packs are written; the flush and the index follow. These pin
// down what an answered upload still promises.
describe('uploads answered before their flush', () => {
  const packsDir = () => path.join(server.dataDir, 'objects', 'packs');

  it('count as present at once, and a commit right after them finds every chunk', async () => {
    const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`/f${i}.bin`, seededBytes(100 + i, 300_000 + i)]));
    const chunked = Object.values(files).map((bytes) => chunkBytes(bytes));
    const ups = await Promise.all(chunked.map((c) => uploadChunks(server.url, 'alpha', c.chunks)));
    expect(ups.map((u) => u.status)).toEqual(ups.map(() => 200));
    expect(await missing('alpha', chunked.flatMap((c) => c.chunks.map((x) => x.hash)))).toEqual([]);
    const changes = Object.keys(files).map((p, i) => ({ op: 'put', path: p, manifest: chunked[i]!.manifest }));
    const res = await api(server.url, 'POST', '/v1/repos/alpha/commits', { branch: 'main', message: 'six', author: 't', changes });
    expect(res.status).toBe(201);
    const got = await fetch(`${server.url}/v1/repos/alpha/commits/main/file?path=/f3.bin`);
    expect(Buffer.from(await got.arrayBuffer()).equals(files['/f3.bin']!)).toBe(true);
  });

  it('are waited for, not stored again, when another repo uploads the same chunk right after', async () => {
    const bytes = seededBytes(7, 200_000);
    const chunk = { hash: blake3Hex(bytes), bytes };
    const first = await uploadChunks(server.url, 'alpha', [chunk]);
    const second = await uploadChunks(server.url, 'beta', [chunk]);
    expect([first.json.stored, second.json.stored, second.json.deduplicated]).toEqual([1, 0, 1]);
  });

  it('leave their chunks missing when the flush fails, so the commit asks for them again', async () => {
    const bytes = seededBytes(8, 100_000);
    const chunk = { hash: blake3Hex(bytes), bytes };
    // The pack's directory cannot be made: a file stands where it goes.
    const pack = blake3Hex(`${chunk.hash} ${bytes.length}\n`);
    const blocker = path.join(packsDir(), pack.slice(0, 2));
    await mkdir(packsDir(), { recursive: true });
    await rm(blocker, { recursive: true, force: true });
    await writeFile(blocker, 'not a directory');
    try {
      const up = await uploadChunks(server.url, 'alpha', [chunk]);
      expect(up.status).toBe(200);
      const manifest = { size: bytes.length, hash: chunk.hash, chunker: chunkBytes(bytes).manifest.chunker, chunks: [[chunk.hash, bytes.length]] };
      const commit = await api(server.url, 'POST', '/v1/repos/alpha/commits', { branch: 'main', message: 'm', author: 't', changes: [{ op: 'put', path: '/lost.bin', manifest }] });
      expect(commit.status).toBe(422);
      expect(commit.json.error.code).toBe('E_CHUNKS_MISSING');
      expect(await missing('alpha', [chunk.hash])).toEqual([chunk.hash]);
      const tmp = await readdir(path.join(server.dataDir, 'objects', 'tmp'));
      expect(tmp).toEqual([]); // the written pack was discarded
    } finally {
      await rm(blocker, { force: true });
    }
    expect((await uploadChunks(server.url, 'alpha', [chunk])).json.stored).toBe(1);
    expect(await missing('alpha', [chunk.hash])).toEqual([]);
  });
});
