/**
 * `datactl get` of one file across a connection cut mid-body, through the real CLI and server:
 * a network blip (a proxy that cuts the first download after 3 MB) is resumed with a Range
 * request and the file arrives whole; a pack missing from the server's store, which the server
 * only finds after it has sent its headers, ends in that error (exit 5) rather than in "lost the
 * connection" (exit 6), and leaves nothing behind.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/errors.js';
import { keys } from '../../src/meta/keys.js';
import { decodeLocation, packKey } from '../../src/packs/chunk-location.js';
import type { ChunkHash } from '../../src/types.js';
import { runCli } from '../helpers/cli.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';

const built = existsSync(new URL('../../dist/cli/main.js', import.meta.url));
// Chunks of ~1 MiB, each larger than a pack: every chunk is a pack of its own, a run of its own.
const PACK_TARGET = 64 * 1024;
const big = seededBytes(77, 12 * 1024 * 1024 + 3);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Small files, fetched many to a chunks/read request. */
const TREE_FILES = 300;
const treeFile = (i: number) => seededBytes(1000 + i, 8 * 1024 + i);

let server: TestServer;
let work: string;

beforeAll(async () => {
  if (!built) return;
  server = await startTestServer({ packTargetBytes: PACK_TARGET });
  work = await mkdtemp(path.join(os.tmpdir(), 'datactl-get-resume-'));
  await writeFile(path.join(work, 'big.bin'), big);
  const cli = (args: string[]) => runCli(['--server', server.url, ...args], { env: { DATACTL_CACHE_DIR: path.join(work, 'cache') } });
  expect((await cli(['repo', 'create', 'r'])).code).toBe(0);
  expect((await cli(['put', 'file', 'r@main:/big.bin', '-f', path.join(work, 'big.bin'), '-m', 'big'])).code).toBe(0);
  await mkdir(path.join(work, 'tree'));
  for (let i = 0; i < TREE_FILES; i++) await writeFile(path.join(work, 'tree', `f${i}.bin`), treeFile(i));
  expect((await cli(['put', 'file', 'r@main:/tree', '-f', path.join(work, 'tree'), '-r', '-m', 'tree'])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const FILE_READ = /^GET \S*\/file\?/m;
const CHUNKS_READ = /^POST \S*\/chunks\/read /m;

interface SeenRequest {
  line: string;
  headers: Record<string, string>;
}

/**
 * A TCP proxy to the server that cuts the first connection carrying a request that matches `cut`
 * once `cutAfter` bytes of its answer have passed (sent on, with backpressure, then the
 * connection closed); everything else passes untouched. Records each request's line and headers.
 */
async function cuttingProxy(cut: RegExp, cutAfter: number): Promise<{ url: string; requests: SeenRequest[]; wasCut(): boolean; close(): Promise<void> }> {
  const target = new URL(server.url);
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let done = false;
  const proxy: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let downloading = false;
    let cutting = false;
    let passed = 0;
    const forward = (from: Socket, to: Socket, data: Buffer) => {
      if (!to.write(data)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    };
    client.on('data', (data: Buffer) => {
      const head = data.toString('latin1');
      if (/^[A-Z]+ \S+ HTTP\/1\.1\r\n/.test(head)) {
        const [line, ...rest] = head.slice(0, head.indexOf('\r\n\r\n')).split('\r\n');
        requests.push({ line: line!, headers: Object.fromEntries(rest.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()])) });
      }
      if (!done && cut.test(head)) downloading = true;
      forward(client, upstream, data);
    });
    upstream.on('data', (data: Buffer) => {
      if (downloading && !done && passed + data.byteLength >= cutAfter) {
        done = cutting = true;
        upstream.destroy();
        client.end(data.subarray(0, cutAfter - passed)); // what is queued still goes out, then FIN
        return;
      }
      if (downloading && !done) passed += data.byteLength;
      forward(upstream, client, data);
    });
    client.on('close', () => upstream.destroy()).on('error', () => upstream.destroy());
    upstream.on('close', () => cutting || client.destroy()).on('error', () => cutting || client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as { port: number }).port}`,
    requests,
    wasCut: () => done,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

describe.skipIf(!built)('get of one file when the connection is cut mid-body', () => {
  it('resumes from the byte it stopped at, and the file arrives whole', async () => {
    const proxy = await cuttingProxy(FILE_READ, 3 * 1024 * 1024);
    try {
      const out = path.join(work, 'resumed.bin');
      const r = await runCli(['--server', proxy.url, 'get', 'file', 'r@main:/big.bin', '-o', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(sha(await readFile(out))).toBe(sha(big));
      expect(proxy.wasCut()).toBe(true);
      const downloads = proxy.requests.filter((r) => FILE_READ.test(r.line));
      expect(downloads).toHaveLength(2);
      // Resumed from where the first answer stopped (3 MB less its headers), not from the start.
      expect(downloads[0]!.headers['range']).toBeUndefined();
      const from = Number(/^bytes=(\d+)-$/.exec(downloads[1]!.headers['range'] ?? '')?.[1]);
      expect(from).toBeGreaterThan(0);
      expect(from).toBeLessThan(3 * 1024 * 1024);
    } finally {
      await proxy.close();
    }
  });

  it('resumes a tree download with the chunks not yet received, and every file arrives whole', async () => {
    const proxy = await cuttingProxy(CHUNKS_READ, 1024 * 1024);
    try {
      const out = path.join(work, 'tree-out');
      const r = await runCli(['--server', proxy.url, 'get', 'file', 'r@main:/tree', '-o', out, '-r', '--json']);
      expect(r.code, r.stderr).toBe(0);
      for (let i = 0; i < TREE_FILES; i++) expect(sha(await readFile(path.join(out, `f${i}.bin`))), `f${i}.bin`).toBe(sha(treeFile(i)));
      // The cut request, then one for the chunks it did not bring: fewer hashes, a shorter body.
      expect(proxy.wasCut()).toBe(true);
      const reads = proxy.requests.filter((r) => CHUNKS_READ.test(r.line));
      expect(reads).toHaveLength(2);
      expect(Number(reads[1]!.headers['content-length'])).toBeLessThan(Number(reads[0]!.headers['content-length']));
    } finally {
      await proxy.close();
    }
  });

  it('names the pack the server cannot read (exit 5), not a lost connection, and leaves nothing behind', async () => {
    // The file's 9th chunk, and the pack that holds it: gone from the store.
    const listing = await api(server.url, 'GET', '/v1/repos/r/commits/main/tree?path=/&manifests=1');
    const chunks = listing.json.entries.find((e: { name: string }) => e.name === 'big.bin').chunks as Array<[ChunkHash, number]>;
    expect(chunks.length).toBeGreaterThan(10);
    const location = decodeLocation((await server.engine.ctx.meta.get(keys.chunk(chunks[8]![0])))!);
    await unlink(path.join(server.dataDir, 'objects', ...packKey(location.pack).split('/')));

    const outDir = await mkdtemp(path.join(work, 'lost-'));
    const r = await runCli(['--server', server.url, 'get', 'file', 'r@main:/big.bin', '-o', path.join(outDir, 'big.bin')]);
    expect(r.code, r.stderr).toBe(EXIT.INTEGRITY);
    expect(r.stderr).toContain(`object ${packKey(location.pack)} not found`);
    expect(r.stderr).not.toContain('lost the connection');
    expect(await readdir(outDir)).toEqual([]);
  });
});
