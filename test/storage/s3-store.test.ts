import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import { parseS3Url, S3ObjectStore, type S3StoreOptions } from '../../src/storage/s3-store.js';
import { rgwFromEnv } from '../helpers/rgw.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { codeOf, objectStoreConformance } from './conformance.js';

type Server = { endpoint: string; accessKeyId: string; secretAccessKey: string; region?: string };

const runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const bucket = `datactl-test-${runId}`;
let prefixCounter = 0;

function storeOn(server: Server, extra: Partial<S3StoreOptions> = {}): S3ObjectStore {
  const { endpoint, accessKeyId, secretAccessKey, region } = server;
  return new S3ObjectStore({ bucket, endpoint, accessKeyId, secretAccessKey, region, ...extra });
}

/** Delete every object a prefix holds, so runs against a shared RGW leave nothing behind. */
async function emptyPrefix(server: Server, prefix: string): Promise<void> {
  const store = storeOn(server, { prefix });
  for await (const key of store.list('')) await store.delete(key);
  await store.close();
}

/** Empty and remove the run's bucket (the store never deletes buckets, so this goes to the SDK). */
async function dropBucket(server: Server): Promise<void> {
  await emptyPrefix(server, ''); // whatever a failed test left behind
  const { endpoint, accessKeyId, secretAccessKey } = server;
  const client = new S3Client({ endpoint, region: server.region ?? 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  client.destroy();
}

/** The conformance suite plus prefix isolation, against one S3 server; a fresh prefix per test. */
function s3Suite(label: string, server: () => Server): void {
  beforeAll(async () => {
    const store = storeOn(server(), { createBucket: true });
    await store.check();
    await store.check(); // a second check of an existing bucket must pass as well
    await store.close();
  });
  afterAll(() => dropBucket(server()));

  objectStoreConformance(`S3ObjectStore (${label})`, async () => {
    const prefix = `run-${runId}/t${++prefixCounter}`;
    return { store: storeOn(server(), { prefix }), cleanup: () => emptyPrefix(server(), prefix) };
  });

  it('keeps stores with different prefixes in one bucket apart', async () => {
    const a = storeOn(server(), { prefix: `iso-${runId}/a` });
    const b = storeOn(server(), { prefix: `iso-${runId}/ab` });
    await a.put('k/1', [Buffer.from('a')]);
    await b.put('k/2', [Buffer.from('b')]);
    const listed = async (s: S3ObjectStore) => {
      const keys: string[] = [];
      for await (const key of s.list('')) keys.push(key);
      return keys;
    };
    expect(await listed(a)).toEqual(['k/1']);
    expect(await listed(b)).toEqual(['k/2']);
    expect(await a.stat('k/2')).toBeUndefined();
    await emptyPrefix(server(), `iso-${runId}/a`);
    await emptyPrefix(server(), `iso-${runId}/ab`);
    await Promise.all([a.close(), b.close()]);
  });

  it('check() of a missing bucket throws E_STORE_UNAVAILABLE unless createBucket is set', async () => {
    const store = storeOn(server(), { bucket: `datactl-missing-${runId}` });
    const err = await store.check().catch((e: unknown) => e as DatactlError);
    expect(err?.code).toBe('E_STORE_UNAVAILABLE');
    expect(err?.message).toMatch(/check failed: .*HTTP 404/);
    await store.close();
  });

  it('says access was denied, and what to check, for credentials the store does not take (a HEAD has no error body to name it)', async () => {
    const store = storeOn(server(), { accessKeyId: 'NOTAKEY', secretAccessKey: 'not-the-secret', maxAttempts: 1 });
    const err = await store.check().catch((e: unknown) => e as DatactlError);
    expect(err?.code).toBe('E_STORE_UNAVAILABLE');
    expect(err?.message).toMatch(/: check failed: (.* \()?HTTP 403\)?: access denied: check the credentials \(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE\)/);
    expect(err?.message).not.toContain('not-the-secret');
    await store.close();
  });
}

describe('S3ObjectStore against s3rver (separate process)', () => {
  let s3rver: S3rverHandle | undefined;
  beforeAll(async () => {
    s3rver = await startS3rver();
  }, 30_000);
  afterAll(async () => {
    await s3rver?.stop();
  });
  s3Suite('s3rver', () => s3rver!);
});

const rgw = rgwFromEnv();
const rgwTitle = rgw
  ? `S3ObjectStore against Ceph RGW at ${rgw.endpoint}`
  : 'S3ObjectStore against Ceph RGW (skipped: set DATACTL_TEST_RGW_ENDPOINT, _ACCESS_KEY, _SECRET_KEY; see ../shared/tools/ceph-rgw-up.sh)';
describe.skipIf(!rgw)(rgwTitle, () => {
  s3Suite('Ceph RGW', () => rgw!);

  it('honours write-once: a second put of an existing key does not replace it', async () => {
    const store = storeOn(rgw!, { prefix: `once-${runId}` });
    await store.put('k', [Buffer.from('first')]);
    await store.put('k', [Buffer.from('other')]); // RGW answers 412 to If-None-Match: *
    expect((await store.getRange('k', 0, 5)).toString()).toBe('first');
    await emptyPrefix(rgw!, `once-${runId}`);
    await store.close();
  });
});

/** A 127.0.0.1 port nothing listens on: bind port 0, note the port, release it. */
async function unusedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('S3ObjectStore failures and configuration', () => {
  it('an unreachable endpoint makes check() and getRange throw E_STORE_UNAVAILABLE naming it', async () => {
    const endpoint = `http://127.0.0.1:${await unusedPort()}`;
    const store = new S3ObjectStore({ bucket: 'b-unreachable', endpoint, accessKeyId: 'k', secretAccessKey: 's', maxAttempts: 1 });
    for (const attempt of [store.check(), store.getRange('packs/ab/x', 0, 10)]) {
      const err = await attempt.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatactlError);
      expect((err as DatactlError).code).toBe('E_STORE_UNAVAILABLE');
      expect((err as DatactlError).message).toContain(endpoint);
    }
    await store.close();
  });

  it('never puts credentials in its description', async () => {
    const store = new S3ObjectStore({
      bucket: 'my-bucket',
      prefix: '/datasets/',
      endpoint: 'http://user:hunter2@127.0.0.1:7480',
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'sup3rs3cret',
    });
    expect(store.description).toBe('s3://my-bucket/datasets at http://127.0.0.1:7480');
    await store.close();
  });

  it('parseS3Url splits bucket and prefix', () => {
    expect(parseS3Url('s3://bucket')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(parseS3Url('s3://bucket/')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(parseS3Url('s3://my.bucket-1/data')).toEqual({ bucket: 'my.bucket-1', prefix: 'data' });
    expect(parseS3Url('s3://bucket/a/b/c/')).toEqual({ bucket: 'bucket', prefix: 'a/b/c' });
  });

  it('parseS3Url rejects malformed URLs with E_BAD_REQUEST', async () => {
    for (const url of ['s3://', 's3:///x', 'http://bucket/x', 's3://Bad_Bucket/x', 's3://b/../x', 's3://bucket/a//b']) {
      expect(await codeOf(Promise.resolve().then(() => parseS3Url(url))), url).toBe('E_BAD_REQUEST');
    }
  });
});
