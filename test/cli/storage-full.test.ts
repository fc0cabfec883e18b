/**
 * A server whose disk fills up, through the real CLI: a put that does not fit is refused with
 * E_STORAGE_FULL (HTTP 507, exit 6, "out of space"), the store is left exactly as it was (same
 * branch head, no temp files, the same free space), and once there is space again the same put
 * goes through and its bytes come back whole. The same for a server on Ceph RGW whose bucket
 * reaches its quota (RGW's 403 QuotaExceeded, which is not an access problem).
 */
import { existsSync, statfsSync } from 'node:fs';
import { appendFile, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/errors.js';
import { runCli } from '../helpers/cli.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { S3ObjectStore } from '../../src/storage/s3-store.js';
import { rgwAdmin, rgwFromEnv } from '../helpers/rgw.js';
import { mountTmpfs, unmountTmpfs } from '../helpers/tmpfs.js';
import { waitFor } from '../helpers/wait.js';

const built = existsSync(new URL('../../dist/cli/main.js', import.meta.url));

/** The refused put, tried again once there is room: it goes through and its bytes come back whole. */
async function expectTakenOnceThereIsRoom(
  cli: (args: string[]) => ReturnType<typeof runCli>, repo: string, work: string, headBefore: string, head: () => Promise<string>,
): Promise<void> {
  const put = await cli(['--json', 'put', 'file', `${repo}@main:/big.bin`, '-f', path.join(work, 'big.bin'), '-m', 'fits now']);
  expect(put.code, put.stderr).toBe(0);
  expect(await head()).not.toBe(headBefore);
  const out = path.join(work, 'big.out');
  expect((await cli(['get', 'file', `${repo}@main:/big.bin`, '-o', out])).code).toBe(0);
  expect((await readFile(out)).equals(await readFile(path.join(work, 'big.bin')))).toBe(true);
}
const MiB = 1024 * 1024;
const tmpfs = built ? mountTmpfs('64m') : undefined;

describe.skipIf(!tmpfs)('a server whose disk is full (its data dir on a 64 MiB tmpfs)', () => {
  let server: TestServer;
  let work: string;
  const filler = () => path.join(tmpfs!, 'filler');
  const cli = (args: string[]) => runCli(['--server', server.url, ...args], { env: { DATACTL_CACHE_DIR: path.join(work, 'cache') } });
  const freeBytes = () => {
    const s = statfsSync(tmpfs!);
    return s.bavail * s.bsize;
  };
  const head = async (): Promise<string> => (await api(server.url, 'GET', '/v1/repos/full/branches/main')).json.head;

  beforeAll(async () => {
    server = await startTestServer({ dataDir: path.join(tmpfs!, 'data') });
    work = await mkdtemp(path.join(os.tmpdir(), 'datactl-full-'));
    await writeFile(path.join(work, 'small.bin'), seededBytes(1, 100_000));
    await writeFile(path.join(work, 'big.bin'), seededBytes(2, 20 * MiB + 5));
    expect((await cli(['repo', 'create', 'full'])).code).toBe(0);
    expect((await cli(['put', 'file', 'full@main:/small.bin', '-f', path.join(work, 'small.bin'), '-m', 'before'])).code).toBe(0);
  });
  afterAll(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
    unmountTmpfs(tmpfs!);
  });

  it('refuses a put that does not fit with E_STORAGE_FULL, keeps nothing of it, and takes it once there is space', async () => {
    // Fill the disk, then give back 1 MiB: less than any upload request of the put (its 8 MiB
    // batches, the last one over 4 MiB).
    try {
      for (;;) await appendFile(filler(), Buffer.alloc(MiB, 7));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    await truncate(filler(), (await stat(filler())).size - MiB);
    const headBefore = await head();
    const freeBefore = freeBytes();

    const refused = await cli(['put', 'file', 'full@main:/big.bin', '-f', path.join(work, 'big.bin'), '-m', 'too big']);
    expect(refused.code, refused.stderr).toBe(EXIT.UNAVAILABLE);
    expect(refused.stderr).toMatch(/no space left on device/i);
    expect(refused.stderr).toMatch(/the server is out of space: free some there, then retry/);
    // As it was: the same head, nothing left in the store's temp dir, the same free space (the
    // CLI exits on the first refusal; the other upload in flight may still be cleaning up).
    expect(await head()).toBe(headBefore);
    await waitFor(async () => (await readdir(path.join(tmpfs!, 'data', 'objects', 'tmp'))).length === 0);
    await waitFor(() => freeBytes() === freeBefore);

    await rm(filler());
    await expectTakenOnceThereIsRoom(cli, 'full', work, headBefore, head);
  });
});

const rgw = built ? rgwFromEnv() : undefined;

describe.skipIf(!rgw?.cephConf)('a server on Ceph RGW whose bucket is over its quota', () => {
  let server: TestServer;
  let work: string;
  const bucket = `datactl-quota-${Date.now()}`;
  const cli = (args: string[]) => runCli(['--server', server.url, ...args], { env: { DATACTL_CACHE_DIR: path.join(work, 'cache') } });
  const head = async (): Promise<string> => (await api(server.url, 'GET', '/v1/repos/quota/branches/main')).json.head;
  const objects = async (): Promise<string[]> => {
    const store = new S3ObjectStore({ bucket, endpoint: rgw!.endpoint, accessKeyId: rgw!.accessKeyId, secretAccessKey: rgw!.secretAccessKey, region: rgw!.region });
    const keys: string[] = [];
    for await (const key of store.list('')) keys.push(key);
    await store.close();
    return keys.sort();
  };

  beforeAll(async () => {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: rgw!.accessKeyId, AWS_SECRET_ACCESS_KEY: rgw!.secretAccessKey, AWS_REGION: rgw!.region });
    server = await startTestServer({ store: `s3://${bucket}/data`, s3Endpoint: rgw!.endpoint });
    work = await mkdtemp(path.join(os.tmpdir(), 'datactl-quota-'));
    await writeFile(path.join(work, 'small.bin'), seededBytes(3, 100_000));
    await writeFile(path.join(work, 'big.bin'), seededBytes(4, 12 * MiB + 5));
    expect((await cli(['repo', 'create', 'quota'])).code).toBe(0);
    expect((await cli(['put', 'file', 'quota@main:/small.bin', '-f', path.join(work, 'small.bin'), '-m', 'before'])).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    if (work) await rm(work, { recursive: true, force: true });
    try {
      rgwAdmin(rgw!, 'bucket', 'rm', `--bucket=${bucket}`, '--purge-objects');
    } catch {
      // a bucket left behind on a throwaway test cluster
    }
  });

  it('refuses a put past the quota with E_STORAGE_FULL, stores nothing of it, and takes it once the quota is lifted', { timeout: 120_000 }, async () => {
    // 1 MiB: below every upload request of the put (its 8 MiB batches, the last one over 4 MiB).
    rgwAdmin(rgw!, 'quota', 'set', '--quota-scope=bucket', `--bucket=${bucket}`, `--max-size=${MiB}`);
    rgwAdmin(rgw!, 'quota', 'enable', '--quota-scope=bucket', `--bucket=${bucket}`);
    const headBefore = await head();
    const objectsBefore = await objects();

    const refused = await cli(['put', 'file', 'quota@main:/big.bin', '-f', path.join(work, 'big.bin'), '-m', 'over quota']);
    expect(refused.code, refused.stderr).toBe(EXIT.UNAVAILABLE);
    expect(refused.stderr).toMatch(/QuotaExceeded.* \(HTTP 403\): the bucket or its account is out of space or over its quota/);
    expect(refused.stderr).not.toMatch(/check the credentials/);
    expect(refused.stderr).toMatch(/the server is out of space: free some there, then retry/);
    expect(await head()).toBe(headBefore);
    expect(await objects()).toEqual(objectsBefore);

    rgwAdmin(rgw!, 'quota', 'disable', '--quota-scope=bucket', `--bucket=${bucket}`);
    await expectTakenOnceThereIsRoom(cli, 'quota', work, headBefore, head);
  });
});
