/**
 * The foundation's "done means", through the real CLI binary against a real server: round trips
 * on every object store, dedup figures as the CLI reports them, concurrent writers, resume.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileChunker } from '../../src/chunking/index.js';
import { Blake3Stream } from '../../src/hash/blake3.js';
import { b3sum, hasB3sum } from '../helpers/b3sum.js';
import { CLI_BIN, runCli } from '../helpers/cli.js';
import { rgwFromEnv } from '../helpers/rgw.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const BIG = 200 * MiB;
const SMALL_FILES = 10_000;
let work: string;
let bigFile: string;
let smallDir: string;

async function hashFile(file: string): Promise<string> {
  const h = new Blake3Stream();
  for await (const piece of createReadStream(file, { highWaterMark: 4 * MiB })) h.update(piece as Buffer);
  return h.digestHex();
}

async function writeSeededFile(file: string, seed: number, size: number, insertAt?: { offset: number; bytes: Buffer }) {
  const piece = 16 * MiB;
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < size; at += piece, i++) parts.push(seededBytes(seed * 1000 + i, Math.min(piece, size - at)));
  let data = Buffer.concat(parts);
  if (insertAt) data = Buffer.concat([data.subarray(0, insertAt.offset), insertAt.bytes, data.subarray(insertAt.offset)]);
  await writeFile(file, data);
}

/** Every file below `dir`, relative path -> BLAKE3. */
async function treeHashes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, full), await hashFile(full));
  }
  return out;
}

async function cli(server: TestServer, args: string[]) {
  const res = await runCli([...args, '--server', server.url], { env: { DATACTL_AUTHOR: 'e2e' } });
  if (res.code !== 0) throw new Error(`datactl ${args.join(' ')} exited ${res.code}: ${res.stderr}`);
  return res;
}
const cliJson = async (server: TestServer, args: string[]) => JSON.parse((await cli(server, [...args, '--json'])).stdout);

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'datactl-e2e-'));
  bigFile = path.join(work, 'big.bin');
  await writeSeededFile(bigFile, 1, BIG);
  smallDir = path.join(work, 'small');
  for (let d = 0; d < 100; d++) {
    const dir = path.join(smallDir, `d${String(d).padStart(2, '0')}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: SMALL_FILES / 100 }, (_, f) => {
        const seed = d * 1000 + f;
        return writeFile(path.join(dir, `f${String(f).padStart(3, '0')}.csv`), seededBytes(seed, 1024 + (seed % 3072)));
      }),
    );
  }
}, 120_000);
afterAll(() => rm(work, { recursive: true, force: true }));

interface StoreCase {
  name: string;
  skip?: string;
  start(): Promise<TestServer>;
}

let s3rver: S3rverHandle | undefined;
const rgw = rgwFromEnv();
const stores: StoreCase[] = [
  { name: 'local disk', start: () => startTestServer() },
  {
    name: 's3rver (S3 process)',
    async start() {
      s3rver = await startS3rver();
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: s3rver.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rver.secretAccessKey, AWS_REGION: 'us-east-1' });
      return startTestServer({ store: `s3://datactl-e2e/run-${Date.now()}`, s3Endpoint: s3rver.endpoint });
    },
  },
  {
    name: 'Ceph RGW',
    skip: rgw ? undefined : 'DATACTL_TEST_RGW_* not set (CI starts Ceph RGW with ../shared/tools/ceph-rgw-up.sh)',
    async start() {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: rgw!.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw!.secretAccessKey, AWS_REGION: rgw!.region });
      return startTestServer({ store: `s3://datactl-e2e-${Date.now()}/data`, s3Endpoint: rgw!.endpoint });
    },
  },
];

describe.each(stores)('round trip through the CLI on $name', (store) => {
  let server: TestServer;
  beforeAll(async () => {
    if (store.skip) return;
    server = await store.start();
    await cli(server, ['repo', 'create', 'rt']);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await s3rver?.stop();
    s3rver = undefined;
  });

  it.skipIf(store.skip !== undefined)(`puts and gets a 200 MB file byte-identical${store.skip ? ` (skipped: ${store.skip})` : ''}`, { timeout: 180_000 }, async () => {
    const put = await cliJson(server, ['put', 'file', 'rt@main:/big.bin', '-f', bigFile, '-m', 'big']);
    expect(put).toMatchObject({ repo: 'rt', branch: 'main', files: 1, bytes: BIG, created: true, uploadedBytes: BIG });
    const out = path.join(work, `${store.name}-big.out`);
    const got = await cliJson(server, ['get', 'file', 'rt@main:/big.bin', '-o', out]);
    expect(got).toMatchObject({ commit: put.commit, files: 1, bytes: BIG });
    const expected = await hashFile(bigFile);
    expect(await hashFile(out)).toBe(expected);
    if (hasB3sum) expect(b3sum(out)).toBe(expected);
    const stat = await api(server.url, 'GET', '/v1/repos/rt/commits/main/stat?path=/big.bin');
    expect(stat.json.entry.hash).toBe(expected);
    await rm(out);
    // Written past the page cache above (O_DIRECT, from 64 MiB); the same bytes through it:
    await cliJson(server, ['get', 'file', 'rt@main:/big.bin', '-o', out, '--no-direct-io']);
    expect(await hashFile(out)).toBe(expected);
    await rm(out);
  });

  it.skipIf(store.skip !== undefined)('puts and gets a tree of 10k small files byte-identical, in one commit', { timeout: 240_000 }, async () => {
    const put = await cliJson(server, ['put', 'file', 'rt@main:/small', '-r', '-f', smallDir]);
    expect(put).toMatchObject({ files: SMALL_FILES, created: true });
    const log = await cliJson(server, ['list', 'commit', 'rt@main']);
    expect(log.length ?? log.commits?.length).toBe(2);
    const out = path.join(work, `${store.name}-small.out`);
    const got = await cliJson(server, ['get', 'file', 'rt@main:/small', '-r', '-o', out]);
    expect(got).toMatchObject({ files: SMALL_FILES });
    expect(await treeHashes(out)).toEqual(await treeHashes(smallDir));
    await rm(out, { recursive: true });
  });
});

describe('dedup, as the CLI reports it', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await cli(server, ['repo', 'create', 'dd']);
    await cli(server, ['put', 'file', 'dd@main:/big.bin', '-f', bigFile]);
  }, 60_000);
  afterAll(() => server.close());

  it('uploads 0 bytes and makes no commit when the same data is put again', async () => {
    const head = (await api(server.url, 'GET', '/v1/repos/dd/branches/main')).json.head;
    const again = await cliJson(server, ['put', 'file', 'dd@main:/big.bin', '-f', bigFile]);
    expect(again).toMatchObject({ created: false, commit: head, uploadedBytes: 0, uploadedChunks: 0, bytes: BIG });
    const human = await cli(server, ['put', 'file', 'dd@main:/big.bin', '-f', bigFile]);
    expect(human.stdout + human.stderr).toMatch(/no changes/);
  });

  it('uploads only a few chunks after inserting 100 KB in the middle of a 200 MB file', async () => {
    const edited = path.join(work, 'edited.bin');
    await writeSeededFile(edited, 1, BIG, { offset: BIG / 2, bytes: seededBytes(99, 100 * 1024) });
    const put = await cliJson(server, ['put', 'file', 'dd@main:/big.bin', '-f', edited]);
    expect(put.created).toBe(true);
    expect(put.chunks).toBeGreaterThan(150);
    expect(put.uploadedChunks).toBeLessThanOrEqual(4);
    expect(put.uploadedBytes).toBeLessThan(8 * MiB);
    await rm(edited);
  });

  it('resumes an interrupted put without resending chunks that reached the server', { timeout: 180_000 }, async () => {
    await cli(server, ['repo', 'create', 'resume']);
    const file = path.join(work, 'resume.bin');
    await writeSeededFile(file, 5, 120 * MiB);
    const hashes: string[] = [];
    const chunker = new FileChunker();
    for await (const piece of createReadStream(file, { highWaterMark: 4 * MiB })) for (const c of chunker.push(piece as Buffer)) hashes.push(c.hash);
    for (const c of chunker.finish()) hashes.push(c.hash);

    const child = spawn(process.execPath, [CLI_BIN, 'put', 'file', 'resume@main:/r.bin', '-f', file, '--server', server.url], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const present = async () => hashes.length - (await api(server.url, 'POST', '/v1/repos/resume/chunks/missing', { hashes })).json.missing.length;
    await waitFor(async () => (await present()) > 0, 30_000);
    child.kill('SIGKILL');
    await exited;
    const before = await present();
    expect((await api(server.url, 'GET', '/v1/repos/resume/branches/main')).status).toBe(404);

    const rerun = await cliJson(server, ['put', 'file', 'resume@main:/r.bin', '-f', file]);
    expect(rerun.created).toBe(true);
    // An upload whose body fully arrived before the kill may still be indexed after `before` was
    // read, so the rerun sends at most what was missing then, and never everything.
    expect(rerun.uploadedChunks).toBeLessThanOrEqual(rerun.chunks - before);
    expect(rerun.uploadedChunks).toBeLessThan(rerun.chunks);
    await rm(file);
  });
});

describe('concurrent writers', () => {
  it('loses no commit when 8 CLI clients put to one branch at once', async () => {
    const server = await startTestServer();
    try {
      await cli(server, ['repo', 'create', 'busy']);
      const files = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const f = path.join(work, `client-${i}.csv`);
          await writeFile(f, seededBytes(500 + i, 300_000));
          return f;
        }),
      );
      const puts = await Promise.all(files.map((f, i) => cliJson(server, ['put', 'file', `busy@main:/c${i}.csv`, '-f', f])));
      expect(puts.every((p) => p.created)).toBe(true);
      const log = await api(server.url, 'GET', '/v1/repos/busy/commits?ref=main');
      expect(new Set(log.json.commits.map((c: any) => c.id))).toEqual(new Set(puts.map((p) => p.commit)));
      const list = await cliJson(server, ['list', 'file', 'busy@main']);
      expect((list.entries ?? list).length).toBe(8);
    } finally {
      await server.close();
    }
  });
});

describe('concurrent writers from stdin', () => {
  it('loses no commit when CLI clients put from stdin at once, after a put recorded the branch in its index', async () => {
    const server = await startTestServer();
    try {
      await cli(server, ['repo', 'create', 'piped']);
      const seed = path.join(work, 'seed.csv');
      await writeFile(seed, 'seed\n');
      // The put index now remembers main's head; a stdin put must not name it as the parent.
      await cli(server, ['put', 'file', 'piped@main:/seed.csv', '-f', seed]);
      const puts = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          runCli(['put', 'file', `piped@main:/s${i}.txt`, '-f', '-', '--json', '--server', server.url], { input: `s${i}\n`, env: { DATACTL_AUTHOR: 'e2e' } }),
        ),
      );
      for (const p of puts) expect(p.code, p.stderr).toBe(0);
      const list = await cliJson(server, ['list', 'file', 'piped@main']);
      expect((list.entries ?? list).length).toBe(9);
    } finally {
      await server.close();
    }
  });
});

describe('bad input through the CLI', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it.each([
    [['repo', 'create', 'bad name'], 2, /invalid repo name "bad name"/],
    [['get', 'file', 'nosuch@main:/x'], 3, /repo "nosuch" not found/],
    [['put', 'file', 'r@main:/../etc/passwd', '-f', '/etc/hostname'], 2, /invalid path/],
    // Never ./<dir name>, over whatever is there.
    [['get', 'file', 'r@main:/t', '-r', '-o', '-'], 2, /-o - streams one file to stdout; a directory \(-r\) needs -o DIR/],
  ])('datactl %j exits %i with a clear message', async (args, code, message) => {
    const res = await runCli([...args, '--server', server.url]);
    expect(res.code).toBe(code);
    expect(res.stderr).toMatch(/^datactl: /);
    expect(res.stderr).toMatch(message);
    expect(res.stdout).toBe('');
  });

  it('says when the server cannot be reached', async () => {
    const res = await runCli(['repo', 'list', '--server', 'http://127.0.0.1:1']);
    expect(res.code).toBe(6);
    expect(res.stderr).toMatch(/cannot reach datactl server at http:\/\/127\.0\.0\.1:1/);
  });

  it('prints one JSON value for --json listings', async () => {
    const res = await runCli(['repo', 'list', '--json', '--server', server.url]);
    expect(() => JSON.parse(res.stdout)).not.toThrow();
    expect(existsSync(CLI_BIN)).toBe(true);
  });
});
