/** DatactlClient.commitStream: a commit of any size as NDJSON, against a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommitChange } from '../../cli/api-types.js';
import { DatactlClient } from '../../cli/client.js';
import { commitStreamBody, PutLines } from '../../cli/commit-stream.js';
import { chunkerId, DEFAULT_CHUNKER_PARAMS } from '../../src/chunking/index.js';
import { DatactlError } from '../../src/errors.js';
import { blake3Hex } from '../../src/hash/blake3.js';
import { encodeFrame } from '../../src/wire/frames.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { chunkBytes } from '../helpers/upload.js';

let server: TestServer;
let client: DatactlClient;
const FILES = 20_000;
const DIRS = 20;
const text = (i: number) => `file number ${i}\n`;
const path = (i: number) => `/d${i % DIRS}/f${i}.txt`;

/** A file under the minimum chunk size is one chunk whose hash is the file's. */
function put(i: number): CommitChange {
  const bytes = Buffer.from(text(i));
  const hash = blake3Hex(bytes);
  return { op: 'put', path: path(i), manifest: { size: bytes.length, hash, chunker: chunkerId(DEFAULT_CHUNKER_PARAMS), chunks: [[hash, bytes.length]] } };
}

beforeAll(async () => {
  server = await startTestServer();
  client = new DatactlClient({ baseUrl: server.url });
  await client.createRepo('stream');
  const frames = Array.from({ length: FILES }, (_, i) => encodeFrame(blake3Hex(Buffer.from(text(i))), Buffer.from(text(i)))).flat();
  await client.uploadChunks('stream', frames);
});
afterAll(() => server.close());

describe('commitStream', () => {
  it(`commits ${FILES} files made lazily by an async generator`, async () => {
    let made = 0;
    async function* changes(): AsyncGenerator<CommitChange> {
      for (let i = 0; i < FILES; i++, made++) yield put(i);
    }
    const result = await client.commitStream('stream', { branch: 'main', message: 'many', author: 'test' }, changes());
    expect(made).toBe(FILES);
    expect(result.created).toBe(true);
    expect(result.commit).toMatchObject({ message: 'many', author: 'test', parents: [] });
    const root = await client.listTree('stream', 'main');
    expect(root.entries).toHaveLength(DIRS);
    expect(root.entries.reduce((n, e) => n + e.size, 0)).toBe(Array.from({ length: FILES }, (_, i) => text(i).length).reduce((a, b) => a + b));
    const dir = await client.listTree('stream', 'main', { path: '/d7', limit: 5000 });
    expect(dir.entries).toHaveLength(FILES / DIRS);
    expect((await client.stat('stream', 'main', path(12_347))).entry).toMatchObject({ size: text(12_347).length, hash: blake3Hex(Buffer.from(text(12_347))) });
  });

  it('gives the same tree as commit() for the same changes, from a plain array', async () => {
    const changes: CommitChange[] = [put(1), put(2), put(30)];
    const viaJson = await client.commit('stream', { branch: 'json', message: 'm', author: 'a', changes });
    const viaStream = await client.commitStream('stream', { branch: 'ndjson', message: 'm', author: 'a' }, changes);
    expect(viaStream.commit!.tree).toBe(viaJson.commit!.tree);
  });

  it('rejects with the server error, and moves nothing', async () => {
    const before = (await client.getBranch('stream', 'main')).head;
    const ghost = chunkBytes(Buffer.from('not uploaded')).manifest;
    const err = await client
      .commitStream('stream', { branch: 'main', message: 'm', author: 'a' }, [{ op: 'delete', path: '/d1' }, { op: 'put', path: '/ghost', manifest: ghost }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatactlError);
    expect(err).toMatchObject({ code: 'E_CHUNKS_MISSING', details: { status: 422, count: 1 } });
    expect((await client.getBranch('stream', 'main')).head).toBe(before);
  });

  it('sends an expected parent in the header line: 409 when the branch moved', async () => {
    const err = await client
      .commitStream('stream', { branch: 'main', message: 'm', author: 'a', parent: null }, [{ op: 'delete', path: '/d1' }])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_CONFLICT', details: { status: 409 } });
  });
});

describe('the NDJSON body', () => {
  it('is made in bounded pieces: the header line first, then one line per change', async () => {
    const pieces: string[] = [];
    for await (const piece of commitStreamBody({ branch: 'b', message: 'm', author: 'a' }, Array.from({ length: 5000 }, (_, i) => put(i)))) {
      pieces.push(Buffer.from(piece).toString('utf8'));
    }
    expect(pieces.length).toBeGreaterThan(3);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(257 * 1024);
    const lines = pieces.join('').split('\n');
    expect(lines).toHaveLength(5002); // header, 5000 changes, and the final newline's empty tail
    expect(JSON.parse(lines[0]!)).toEqual({ branch: 'b', message: 'm', author: 'a' });
    expect(JSON.parse(lines[4000]!)).toEqual(put(3999));
  });

  it('sends each group of changes as soon as it arrives, before the next one is ready', async () => {
    let release!: () => void;
    const later = new Promise<void>((resolve) => (release = resolve));
    async function* groups() {
      yield [put(0), put(1)];
      await later;
      yield [put(2)];
    }
    const body = commitStreamBody({ branch: 'b', message: 'm', author: 'a' }, groups());
    const first = Buffer.from((await body.next()).value as Uint8Array).toString('utf8');
    expect(first.split('\n').slice(1, 3).map((l) => JSON.parse(l))).toEqual([put(0), put(1)]);
    release();
    const second = Buffer.from((await body.next()).value as Uint8Array).toString('utf8');
    expect(JSON.parse(second)).toEqual(put(2));
    expect((await body.next()).done).toBe(true);
  });
});

describe('PutLines', () => {
  const h = (n: number) => blake3Hex(Buffer.from(String(n)));
  const chunker = chunkerId(DEFAULT_CHUNKER_PARAMS);
  /** What commitStreamBody makes of the same change: JSON.stringify of the object. */
  const expected = (path: string, size: number, hash: string, chunks: Array<[string, number]>, id = chunker) =>
    `${JSON.stringify({ op: 'put', path, manifest: { size, hash, chunker: id, chunks } })}\n`;

  it('writes each put change byte for byte as JSON.stringify does', () => {
    const cases: Array<[string, number, string, Array<[string, number]> | undefined, string]> = [
      ['/d1/f1.txt', 17, h(1), undefined, chunker],
      ['/empty', 0, h(2), undefined, chunker],
      ['/big.bin', 2 ** 40, h(3), [[h(4), 2 ** 39], [h(5), 2 ** 39]], chunker],
      ['/one "quoted" \\ back\tslash\n', 5, h(6), undefined, chunker],
      ['/\u0001control\u001f\u007f', 5, h(7), undefined, chunker],
      ['/unicodé/日本/emoji-😀', 5, h(8), undefined, chunker],
      ['/lone-\ud800-surrogate', 5, h(9), undefined, chunker],
      ['/odd-chunker', 5, h(10), undefined, 'x"\\y'],
    ];
    let made = '';
    let want = '';
    for (const [path, size, hash, chunks, id] of cases) {
      const lines = new PutLines(id);
      lines.put(path, size, hash, chunks);
      made += lines.take().toString('utf8');
      expect(lines.take().byteLength).toBe(0);
      want += expected(path, size, hash, chunks ?? (size === 0 ? [] : [[hash, size]]), id);
    }
    expect(made).toBe(want);
  });

  it('says when it holds a piece of the body, so a group of huge files goes out in bounded pieces', () => {
    const lines = new PutLines(chunker);
    expect(lines.empty).toBe(true);
    let n = 0;
    while (!lines.full) lines.put(path(n), 17, h(n++));
    expect(lines.empty).toBe(false);
    const piece = lines.take();
    expect(piece.byteLength).toBeGreaterThanOrEqual(256 * 1024);
    expect(piece.byteLength).toBeLessThan(257 * 1024);
    expect(lines.empty).toBe(true);
    expect(piece.toString().split('\n')).toHaveLength(n + 1);
  });

  it('makes many lines, and a line of many chunks, in one take', () => {
    const lines = new PutLines(chunker);
    const chunks = Array.from({ length: 5000 }, (_, i): [string, number] => [h(i), 1000 + i]);
    let want = '';
    for (let i = 0; i < 1000; i++) {
      lines.put(path(i), 17, h(i));
      want += expected(path(i), 17, h(i), [[h(i), 17]]);
    }
    lines.put('/many', 1, h(-1), chunks);
    want += expected('/many', 1, h(-1), chunks);
    const out = lines.take();
    expect(out.byteLength).toBeGreaterThan(2 * 64 * 1024);
    expect(out.toString('utf8')).toBe(want);
  });

  it('goes through commitStreamBody as is, after the lines made before it', async () => {
    const lines = new PutLines(chunker);
    lines.put(path(1), 3, h(1));
    const encoded = lines.take();
    const pieces: string[] = [];
    async function* groups() {
      yield put(0);
      yield encoded;
      yield [put(2)];
    }
    for await (const piece of commitStreamBody({ branch: 'b', message: 'm', author: 'a' }, groups())) pieces.push(Buffer.from(piece).toString('utf8'));
    const body = pieces.join('').split('\n');
    expect(body.slice(1, 4).map((l) => JSON.parse(l))).toEqual([put(0), JSON.parse(encoded.toString()), put(2)]);
    expect(pieces[1]).toBe(encoded.toString());
    expect(pieces.filter((p) => p.length === 0)).toEqual([]);
  });

  it('makes a commit the server takes, through the real client', async () => {
    const lines = new PutLines(chunker);
    const ids = [0, 1, 2].map((i) => FILES - 1 - i);
    for (const i of ids) lines.put(`/lines${path(i)}`, Buffer.byteLength(text(i)), blake3Hex(Buffer.from(text(i))));
    async function* groups() {
      yield lines.take();
    }
    const result = await client.commitStream('stream', { branch: 'lines', message: 'm', author: 'a' }, groups());
    expect(result.created).toBe(true);
    for (const i of ids) {
      const { entry } = await client.stat('stream', 'lines', `/lines${path(i)}`);
      expect(entry).toMatchObject({ size: Buffer.byteLength(text(i)), hash: blake3Hex(Buffer.from(text(i))) });
    }
  });
});
