import { mkdir, mkdtemp, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DatactlClient } from '../../cli/client.js';
import { nodeFetch, type NodeRequestInit } from '../../cli/node-fetch.js';
import { readSmallFiles, recycleBlock } from '../../cli/transfer/file-tasks.js';
import { errnoText } from '../../cli/transfer/errno.js';
import { putFiles, type PutFilesOptions } from '../../cli/transfer/put.js';
import { encodeIndexEntry, RACY_MS, readIndexRecords } from '../../cli/transfer/stat-cache.js';
import { chunkerId, FileChunker } from '../../src/chunking/index.js';
import { blake3Hex } from '../../src/hash/blake3.js';
import { ChunkReader } from '../../src/packs/chunk-reader.js';
import type { ChunkHash } from '../../src/types.js';
import { decodeFrames } from '../../src/wire/frames.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const smallChunks = { minSize: 1024, avgSize: 4096, maxSize: 16384 };
let server: TestServer;
let client: DatactlClient;
let dir: string;
let repoN = 0;
let repo: string;

beforeAll(async () => {
  server = await startTestServer();
  client = new DatactlClient({ baseUrl: server.url });
});

afterAll(async () => {
  await server.close();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'datactl-put-'));
  repo = `put${++repoN}`;
  await client.createRepo(repo);
});

/** Files written "an hour ago", so a put index may record them (younger ones are racily clean). */
async function writeOld(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, data);
  const past = new Date(Date.now() - 3600_000);
  await utimes(path, past, past);
}

async function makeTree(files = 40): Promise<string> {
  const root = join(dir, 'tree');
  for (let i = 0; i < files; i++) await writeOld(join(root, `d${i % 4}`, `f${i}.txt`), `file ${i}\n`.repeat(i + 1));
  await writeOld(join(root, 'big.bin'), seededBytes(7, 100_000));
  return root;
}

function put(root: string, extra: Partial<PutFilesOptions> = {}) {
  return putFiles(client, {
    repo,
    path: '/t',
    sources: [root],
    recursive: true,
    chunker: smallChunks,
    author: 'tester',
    index: join(dir, 'put-index.bin'),
    ...extra,
  });
}

/** path -> content hash of every file under /t at the branch head. */
async function remoteHashes(path = '/t', out: Record<string, string> = {}): Promise<Record<string, string>> {
  const listing = await client.listTree(repo, 'main', { path, limit: 1000 });
  for (const e of listing.entries) {
    if (e.type === 'file') out[e.path] = e.hash;
    else await remoteHashes(e.path, out);
  }
  return out;
}

describe('put of a directory tree', () => {
  it('reads and sends every file the first time, and the branch then holds exactly their bytes', async () => {
    const root = await makeTree();
    const result = await put(root);
    expect(result).toMatchObject({ created: true, files: 41, readFiles: 41, unchangedFiles: 0 });
    const remote = await remoteHashes();
    expect(Object.keys(remote)).toHaveLength(41);
    expect(remote['/t/d1/f5.txt']).toBe(blake3Hex('file 5\n'.repeat(6)));
    expect(remote['/t/big.bin']).toBe(blake3Hex(seededBytes(7, 100_000)));
  });

  it('gives the same commit tree whether files are read in worker threads or inline', async () => {
    const root = await makeTree();
    const threaded = await put(root, { workers: 2, index: false });
    const treeThreaded = (await client.getCommit(repo, threaded.commit!)).tree;
    const other = `${repo}x`;
    await client.createRepo(other);
    const inline = await putFiles(client, { repo: other, path: '/t', sources: [root], recursive: true, chunker: smallChunks, author: 'tester', index: false, workers: 0 });
    expect((await client.getCommit(other, inline.commit!)).tree).toBe(treeThreaded);
  });

  it('the big file is chunked exactly as the chunker cuts it', async () => {
    const root = await makeTree(1);
    await put(root, { workers: 1 });
    const bytes = seededBytes(7, 100_000);
    const chunker = new FileChunker(smallChunks);
    const expected = [...chunker.push(bytes), ...chunker.finish()].map((c) => [c.hash, c.size]);
    const stat = await client.stat(repo, 'main', '/t/big.bin');
    expect(stat.entry.type === 'file' && stat.entry.hash).toBe(blake3Hex(bytes));
    expect(stat.entry.type === 'file' && stat.entry.chunks).toEqual(expected);
    expect(expected.length).toBeGreaterThan(5);
  });
});

/**
 * A client whose requests are watched: which chunks the server has answered for (upload responses),
 * and for every piece of a commit's body that carries change lines, whether each chunk those lines
 * name was answered before the piece went out.
 */
function watchedClient(onLines: () => void = () => {}) {
  const answered = new Set<string>();
  const events: Array<'upload' | 'lines'> = [];
  const unanswered: string[] = [];
  const watched = async (url: string, init: NodeRequestInit = {}) => {
    if (init.method === 'POST' && new URL(url).pathname.endsWith('/chunks')) {
      const body = Buffer.concat(init.body as readonly Uint8Array[]);
      const hashes: string[] = [];
      for await (const f of decodeFrames((async function* () { yield body; })())) hashes.push(f.hash); // verified
      events.push('upload');
      const res = await nodeFetch(url, init);
      if (res.ok) for (const h of hashes) answered.add(h);
      return res;
    }
    if (new URL(url).pathname.endsWith('/commits') && init.body && typeof init.body === 'object' && Symbol.asyncIterator in init.body) {
      const body = init.body as AsyncIterable<Uint8Array>;
      let first = true;
      init = {
        ...init,
        body: (async function* () {
          for await (const piece of body) {
            const lines = Buffer.from(piece).toString().split('\n').filter(Boolean);
            if (first) lines.shift(); // the header
            first = false;
            for (const line of lines) {
              const change = JSON.parse(line) as { path: string; manifest: { chunks: Array<[string, number]> } };
              for (const [hash] of change.manifest.chunks) if (!answered.has(hash)) unanswered.push(`${change.path} ${hash}`);
            }
            if (lines.length > 0) {
              events.push('lines');
              onLines();
            }
            yield piece;
          }
        })(),
      };
    }
    return nodeFetch(url, init);
  };
  const watchedClient = new DatactlClient({ baseUrl: server.url, fetch: watched as unknown as typeof fetch });
  return { client: watchedClient, events, unanswered };
}

/** `n` files of 1-2 KB, each its own chunk, none alike. */
async function manyFiles(n: number): Promise<string> {
  const root = join(dir, 'many');
  for (let i = 0; i < n; i++) await writeOld(join(root, `d${i % 8}`, `f${String(i).padStart(5, '0')}.bin`), seededBytes(i, 1000 + (i % 1000)));
  return root;
}

describe('a put streams its commit while it uploads', () => {
  it('sends changes before the last upload, each only once the chunks it names were answered', async () => {
    const root = await manyFiles(2000);
    const watch = watchedClient();
    const result = await putFiles(watch.client, {
      repo, path: '/t', sources: [root], recursive: true, chunker: smallChunks, author: 'tester', index: false,
      upload: { batchBytes: 64 * 1024 },
    });
    expect(result).toMatchObject({ created: true, files: 2000, readFiles: 2000 });
    expect(result.uploadedChunks).toBe(result.chunks);
    expect(watch.unanswered).toEqual([]);
    const firstLines = watch.events.indexOf('lines');
    const lastUpload = watch.events.lastIndexOf('upload');
    expect(firstLines).toBeGreaterThanOrEqual(0);
    expect(firstLines).toBeLessThan(lastUpload);
    const remote = await remoteHashes();
    expect(Object.keys(remote)).toHaveLength(2000);
    expect(remote['/t/d7/f01999.bin']).toBe(blake3Hex(seededBytes(1999, 1999)));
  });

  it('commits nothing when it fails after changes went out: the request is cut off unfinished', async () => {
    const root = await manyFiles(2000);
    const last = join(root, 'd7', 'f01999.bin');
    // Gone once the server has some changes, long before the put reads it.
    const watch = watchedClient(() => void unlink(last).catch(() => undefined));
    const failed = putFiles(watch.client, {
      repo, path: '/t', sources: [root], recursive: true, chunker: smallChunks, author: 'tester', index: false,
      upload: { batchBytes: 64 * 1024 },
    });
    await expect(failed).rejects.toMatchObject({ code: 'E_BAD_REQUEST', message: expect.stringContaining('f01999.bin') });
    expect(watch.events).toContain('lines');
    await expect(client.getBranch(repo, 'main')).rejects.toMatchObject({ code: 'E_BRANCH_NOT_FOUND' });
    // The uploads it made are kept (they are content-addressed), and the next put commits.
    await writeOld(last, seededBytes(1999, 1999));
    const retried = await put(root, { index: false });
    expect(retried).toMatchObject({ created: true, files: 2000 });
    expect(retried.uploadedChunks).toBeLessThan(retried.chunks / 2);
  });
});

describe('where a put leaves the chunks of small files', () => {
  it('in packs in path order, batch after batch, so a get of the tree reads long runs', async () => {
    const root = join(dir, 'many');
    // ~4000 one-chunk files: 16 batches read two workers at a time
    for (let i = 0; i < 4000; i++) await writeOld(join(root, `d${Math.floor(i / 1000)}`, `f${String(i).padStart(5, '0')}.bin`), seededBytes(i, 600));
    await put(root, { workers: 2, index: false });
    const inPathOrder = Object.entries(await remoteHashes())
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, hash]) => hash as ChunkHash);
    expect(inPathOrder).toHaveLength(4000);
    const locations = await new ChunkReader(server.engine.meta, server.engine.store).locate(inPathOrder);
    let breaks = 0;
    for (let i = 1; i < locations.length; i++) {
      const [prev, loc] = [locations[i - 1]!, locations[i]!];
      if (loc.pack !== prev.pack || loc.offset !== prev.offset + prev.length) breaks++;
    }
    // one upload request makes one pack: a break only where a pack ends
    expect(breaks).toBe(new Set(locations.map((l) => l.pack)).size - 1);
  });
});

describe('the put index: unchanged files are neither read nor sent', () => {
  it('a second put of an unchanged tree reads nothing and makes no commit', async () => {
    const root = await makeTree();
    const first = await put(root);
    const again = await put(root);
    expect(again).toMatchObject({ created: false, commit: first.commit, readFiles: 0, unchangedFiles: 41, uploadedBytes: 0 });
  });

  it('reads only the files whose size or mtime changed, and commits just those', async () => {
    const root = await makeTree();
    const first = await put(root);
    await writeOld(join(root, 'd0', 'f0.txt'), 'changed size\n');
    await writeOld(join(root, 'd1', 'f1.txt'), 'file 9\nfile 9\n'); // same size as before
    await utimes(join(root, 'd1', 'f1.txt'), new Date(Date.now() - 1800_000), new Date(Date.now() - 1800_000));
    await writeOld(join(root, 'd2', 'new.txt'), 'new\n');
    const second = await put(root);
    expect(second).toMatchObject({ created: true, readFiles: 3, unchangedFiles: 39, files: 42 });
    const commit = await client.getCommit(repo, second.commit!);
    expect(commit.parents).toEqual([first.commit]);
    const remote = await remoteHashes();
    expect(remote['/t/d0/f0.txt']).toBe(blake3Hex('changed size\n'));
    expect(remote['/t/d1/f1.txt']).toBe(blake3Hex('file 9\nfile 9\n'));
    expect(remote['/t/d2/new.txt']).toBe(blake3Hex('new\n'));
  });

  it.each([
    ['a chunker id of the same length, differing in its last digit', { ...smallChunks, maxSize: smallChunks.maxSize + 1 }],
    ['a chunker id of the same length, differing in the middle', { ...smallChunks, minSize: smallChunks.minSize + 1 }],
    ['a longer chunker id', { ...smallChunks, maxSize: smallChunks.maxSize * 10 }],
  ])('reads every file again under another chunker: %s', async (_, chunker) => {
    const root = await makeTree(8);
    await put(root);
    const again = await put(root, { chunker });
    expect(again).toMatchObject({ readFiles: 9, unchangedFiles: 0 });
  });

  it('never trusts a file modified within the racy window of the put that recorded it', async () => {
    const root = await makeTree(4);
    const fresh = join(root, 'fresh.txt');
    await writeFile(fresh, 'v1');
    await put(root);
    // Same size, same second: a fingerprint could not tell these apart, so it must be re-read.
    await writeFile(fresh, 'v2');
    const st = Date.now() - RACY_MS / 4;
    await utimes(fresh, new Date(st), new Date(st));
    const second = await put(root);
    expect(second.readFiles).toBe(1);
    expect((await remoteHashes())['/t/fresh.txt']).toBe(blake3Hex('v2'));
  });

  it('sends every file again (without reading them) when someone else moved the branch', async () => {
    const root = await makeTree();
    await put(root);
    // Another writer replaces one of our files on the server.
    const other = join(dir, 'other.txt');
    await writeFile(other, 'theirs');
    await putFiles(client, { repo, path: '/t/d0/f0.txt', sources: [other], author: 'them', index: false });
    const second = await put(root);
    expect(second).toMatchObject({ created: true, readFiles: 0, unchangedFiles: 0, uploadedBytes: 0 });
    expect((await remoteHashes())['/t/d0/f0.txt']).toBe(blake3Hex('file 0\n'));
  });

  it.each([
    ['not a number', () => Number.NaN],
    ['a size that does not add up to the file', (size: number) => size + 1],
  ])('reads a file again when a chunk size its index entry records is damaged (%s), instead of sending it', async (_, damage) => {
    const root = await makeTree(3);
    const big = join(root, 'big.bin');
    const bytes = seededBytes(77, 40_000);
    await writeOld(big, bytes);
    await put(root);
    const chunks = [...new FileChunker(smallChunks).push(bytes)];
    expect(chunks.length).toBeGreaterThan(1);
    // Overwrite the size after the first chunk's hash, as a flipped bit in the cache might.
    const file = join(dir, 'put-index.bin');
    const index = await readFile(file);
    const at = index.indexOf(Buffer.from(chunks[0]!.hash, 'hex'));
    expect(at).toBeGreaterThan(0);
    expect(index.readDoubleLE(at + 32)).toBe(chunks[0]!.size);
    index.writeDoubleLE(damage(chunks[0]!.size), at + 32);
    await writeFile(file, index);
    // Someone else moves the branch, so the put reuses its recorded manifests instead of skipping.
    const other = join(dir, 'other.txt');
    await writeFile(other, 'theirs');
    await putFiles(client, { repo, path: '/elsewhere.txt', sources: [other], author: 'them', index: false });
    const second = await put(root);
    expect(second).toMatchObject({ readFiles: 1, uploadedBytes: 0 });
    expect((await remoteHashes())['/t/big.bin']).toBe(blake3Hex(bytes));
  });

  it('recovers when the repo was deleted and recreated: the recorded chunks are gone, so it reads everything', async () => {
    const root = await makeTree();
    await put(root);
    await client.deleteRepo(repo);
    await client.createRepo(repo);
    const again = await put(root);
    expect(again).toMatchObject({ created: true, readFiles: 41 });
    expect(Object.keys(await remoteHashes())).toHaveLength(41);
  });

  it('ignores an index file it cannot parse', async () => {
    const root = await makeTree(3);
    await writeFile(join(dir, 'put-index.bin'), 'garbage\nmore garbage\n');
    const result = await put(root);
    expect(result).toMatchObject({ created: true, readFiles: 4 });
    const records = readIndexRecords(await readFile(join(dir, 'put-index.bin')));
    expect(records.map((r) => r.type)).toEqual(['head', 'entry', 'entry', 'entry', 'entry']);
    expect(records[0]).toEqual({ type: 'head', commit: result.commit });
  });
});

describe('the put index file', () => {
  it('records each file with its fingerprint and manifest hash, under the head that put made', async () => {
    const root = await makeTree(2);
    const result = await put(root);
    const st = await stat(join(root, 'd1', 'f1.txt'));
    const records = readIndexRecords(await readFile(join(dir, 'put-index.bin')));
    expect(records.find((r) => r.type === 'entry' && r.dest === '/t/d1/f1.txt')).toEqual({
      type: 'entry',
      dest: '/t/d1/f1.txt',
      fingerprint: { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev },
      chunker: chunkerId(smallChunks),
      hash: blake3Hex('file 1\nfile 1\n'),
      chunks: 0,
    });
    expect(records.find((r) => r.type === 'entry' && r.dest === '/t/big.bin')).toMatchObject({ chunks: expect.any(Number) });
    expect(records[0]).toEqual({ type: 'head', commit: result.commit });
  });

  it('appends what a small change recorded, and a torn append counts for nothing', async () => {
    const root = await makeTree(20);
    await put(root);
    const file = join(dir, 'put-index.bin');
    const before = await readFile(file);
    await writeOld(join(root, 'd0', 'f0.txt'), 'edited\n');
    const second = await put(root);
    const after = await readFile(file);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    expect(readIndexRecords(after).slice(readIndexRecords(before).length)).toEqual([
      expect.objectContaining({ type: 'entry', dest: '/t/d0/f0.txt', hash: blake3Hex('edited\n') }),
      { type: 'head', commit: second.commit },
    ]);

    // A crash between an entry and its head record: the entry must not count. Forged to claim
    // the edited file's new fingerprint with a wrong hash, so trusting it would skip the edit.
    const edited = join(root, 'd1', 'f1.txt');
    await writeOld(edited, 'edited too\n');
    const st = await stat(edited);
    const fp = new Float64Array([st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev]);
    const manifest = { size: st.size, hash: '0'.repeat(64), chunker: chunkerId(smallChunks), chunks: [] };
    await writeFile(file, Buffer.concat([after, encodeIndexEntry({ dest: '/t/d1/f1.txt', fp, at: 0, manifest })]));
    expect(await put(root)).toMatchObject({ created: true, readFiles: 1, unchangedFiles: 20 });
    expect((await remoteHashes())['/t/d1/f1.txt']).toBe(blake3Hex('edited too\n'));
    // ...nor be adopted by the next head record: that save rewrote the file instead of appending.
    expect(readIndexRecords(await readFile(file)).filter((r) => r.type === 'entry' && r.hash === '0'.repeat(64))).toEqual([]);
  });

  it('rewrites rather than appends when the log would grow long next to the base, which every load replays', async () => {
    const root = await makeTree(4);
    await put(root);
    const file = join(dir, 'put-index.bin');
    const baseEntries = async () => (await readFile(file)).readUInt32LE('datactl-put-index 3\n'.length + 8);
    expect(await baseEntries()).toBe(5);
    await Promise.all(Array.from({ length: 4200 }, (_, i) => writeOld(join(root, 'many', `m${i}.txt`), `m${i}`)));
    expect(await put(root)).toMatchObject({ created: true, readFiles: 4200 });
    expect(await baseEntries()).toBe(4205);
    expect(await put(root)).toMatchObject({ created: false, readFiles: 0, unchangedFiles: 4205 });
  });
});

describe('finding files in the put index', () => {
  it('trusts the entry a later put appended over the one the file was written with', async () => {
    const root = await makeTree(20);
    await put(root);
    await writeOld(join(root, 'd2', 'f2.txt'), 'edited\n'); // appended: the base still holds its old entry
    expect(await put(root)).toMatchObject({ created: true, readFiles: 1 });
    expect(await put(root)).toMatchObject({ created: false, readFiles: 0, unchangedFiles: 21 });
  });

  it('finds names beyond ASCII by their UTF-8 bytes, and never confuses two that share them as chars', async () => {
    const root = await makeTree(4);
    await writeOld(join(root, 'd0', 'é.txt'), 'e acute');
    await writeOld(join(root, 'd0', 'Ã©.txt'), 'A tilde, copyright'); // its chars are the UTF-8 bytes of "é"
    await put(root);
    expect(await put(root)).toMatchObject({ created: false, readFiles: 0, unchangedFiles: 7 });
    await writeOld(join(root, 'd0', 'é.txt'), 'e acute, edited');
    expect(await put(root)).toMatchObject({ created: true, readFiles: 1 });
    const remote = await remoteHashes();
    expect(remote['/t/d0/é.txt']).toBe(blake3Hex('e acute, edited'));
    expect(remote['/t/d0/Ã©.txt']).toBe(blake3Hex('A tilde, copyright'));
  });

  it('a damaged saved table finds nothing rather than a wrong entry: the files are read again', async () => {
    const root = await makeTree(20);
    const first = await put(root);
    const file = join(dir, 'put-index.bin');
    const bytes = await readFile(file);
    const tableAt = bytes.readUInt32LE('datactl-put-index 3\n'.length);
    const slots = bytes.readUInt32LE('datactl-put-index 3\n'.length + 4);
    const table = new Int32Array(bytes.buffer, bytes.byteOffset + tableAt, slots);
    for (let i = 0; i < slots; i++) table[i] = i % 3 === 0 ? 0 : ((i * 7919) % (bytes.length + 100)) - 50; // anywhere, in range or not
    await writeFile(file, bytes);
    expect(await put(root)).toMatchObject({ commit: first.commit, readFiles: 21 });
    expect(await put(root)).toMatchObject({ created: false, readFiles: 0 }); // and that put saved a sound index
  });
});

describe('reading small files in a batch', () => {
  it('takes the bytes that are there when a file grew or shrank after it was stat-ed', async () => {
    const grew = join(dir, 'grew');
    const shrank = join(dir, 'shrank');
    await writeFile(grew, '0123456789');
    await writeFile(shrank, 'abc');
    const batch = readSmallFiles([{ path: grew, size: 3 }, { path: shrank, size: 10 }], smallChunks);
    const [g, s] = batch.files;
    expect(Buffer.from(g!.own!, g!.offset, g!.size).toString()).toBe('0123456789');
    expect(g!.hash).toBe(blake3Hex('0123456789'));
    expect(Buffer.from(batch.buffer, s!.offset, s!.size).toString()).toBe('abc');
    expect(s!.hash).toBe(blake3Hex('abc'));
  });

  it('reports an unreadable file by name instead of failing the batch', async () => {
    const ok = join(dir, 'ok');
    await writeFile(ok, 'fine');
    const batch = readSmallFiles([{ path: join(dir, 'missing'), size: 1 }, { path: ok, size: 4 }], smallChunks);
    expect(batch.files[0]!.error).toBe('no such file or directory (ENOENT)');
    expect(batch.files[1]!.hash).toBe(blake3Hex('fine'));
  });

  it('says in words why a file given on the command line cannot be read', async () => {
    const missing = join(dir, 'nowhere.txt');
    await expect(put(missing)).rejects.toThrow(`cannot read "${missing}": no such file or directory (ENOENT)`);
    // The same words for any errno (root reads anything, so EACCES is asked of the table directly).
    expect(errnoText(Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('permission denied (EACCES)');
    expect(errnoText(Object.assign(new Error('odd failure'), { code: 'E_NOT_ERRNO' }))).toBe('E_NOT_ERRNO');
    expect(errnoText(new Error('no code at all'))).toBe('no code at all');
  });

  it('reads the next batch into a buffer given back, with none of the old bytes showing through', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    await writeFile(a, 'a much longer first file');
    await writeFile(b, 'short');
    const first = readSmallFiles([{ path: a, size: 24 }], smallChunks);
    recycleBlock(first.buffer);
    const second = readSmallFiles([{ path: b, size: 5 }], smallChunks);
    expect(second.buffer).toBe(first.buffer);
    const f = second.files[0]!;
    expect(Buffer.from(second.buffer, f.offset, f.size).toString()).toBe('short');
    expect(f.hash).toBe(blake3Hex('short'));
  });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
