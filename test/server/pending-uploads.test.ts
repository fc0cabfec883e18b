import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blake3Hex } from '../../src/hash/blake3.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { chunkBytes, uploadChunks } from '../helpers/upload.js';

// Uploads are answered once their packs are written; the flush and the index follow. These pin
// down what an answered upload still promises.
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  for (const name of ['alpha', 'beta']) await api(server.url, 'POST', '/v1/repos', { name });
});
afterAll(() => server.close());

const missing = async (repo: string, hashes: string[]) => (await api(server.url, 'POST', `/v1/repos/${repo}/chunks/missing`, { hashes })).json.missing;
const packsDir = () => path.join(server.dataDir, 'objects', 'packs');

describe('uploads answered before their flush', () => {
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
