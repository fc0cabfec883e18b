/**
 * A server refuses an object store that lacks what its metadata indexes (a typo in --store, a
 * wiped bucket): uploads are deduplicated against the index, so it would otherwise acknowledge
 * commits whose bytes are nowhere. A missing bucket is created only for metadata that indexes
 * nothing yet.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatactlClient } from '../../cli/client.js';
import { putFiles } from '../../cli/transfer/put.js';
import { openEngine } from '../../src/engine.js';
import { DatactlError } from '../../src/errors.js';
import { startServer } from '../../server/main.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { startTestServer } from '../helpers/server.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'datactl-store-match-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A data dir whose metadata indexes one file's chunks, stored in `store`. */
async function dataDirWithAFile(name: string, store?: string, s3Endpoint?: string): Promise<string> {
  const dataDir = join(dir, name);
  const server = await startTestServer({ dataDir, store, s3Endpoint });
  try {
    const client = new DatactlClient({ baseUrl: server.url });
    await client.createRepo('r');
    const file = join(dir, `${name}.bin`);
    await writeFile(file, seededBytes(3, 300_000));
    await putFiles(client, { repo: 'r', path: '/f.bin', sources: [file], author: 'tester', index: false, workers: 0 });
  } finally {
    await server.close();
  }
  return dataDir;
}

async function checkError(dataDir: string, store?: string, s3Endpoint?: string): Promise<DatactlError | undefined> {
  const engine = await openEngine({ dataDir, store, s3Endpoint });
  try {
    await engine.check();
    return undefined;
  } catch (err) {
    if (err instanceof DatactlError) return err;
    throw err;
  } finally {
    await engine.close();
  }
}

describe('a server checks that its object store holds what its metadata indexes', () => {
  it('refuses another local store for existing metadata, naming the pack and what to check', async () => {
    const dataDir = await dataDirWithAFile('local');
    const typo = join(dir, 'objects-typo');
    const err = await checkError(dataDir, typo);
    expect(err?.code).toBe('E_STORE_UNAVAILABLE');
    expect(err?.message).toMatch(/^object store file:\/\/.*objects-typo holds none of the 1 packs sampled from the metadata in .*local\/meta \(such as [0-9a-f]+\): is this the store this data dir was used with/);
    // `datactl serve` stops there, before listening.
    await expect(startServer({ dataDir, store: typo, host: '127.0.0.1', port: 0, logLevel: 'silent' })).rejects.toThrow(/holds none of the 1 packs sampled/);
    // A refused path is left as it was: not created, not even its tmp/.
    expect(existsSync(typo)).toBe(false);
    // The right store still serves.
    expect(await checkError(dataDir)).toBeUndefined();
  });

  it('refuses a store emptied under it', async () => {
    const dataDir = await dataDirWithAFile('emptied');
    await rm(join(dataDir, 'objects'), { recursive: true, force: true });
    expect((await checkError(dataDir))?.message).toMatch(/holds none of the 1 packs sampled/);
  });

  it('still serves when one pack of several is lost (damage, repaired by a re-put, not a wrong store)', async () => {
    const dataDir = join(dir, 'several');
    const server = await startTestServer({ dataDir });
    try {
      const client = new DatactlClient({ baseUrl: server.url });
      await client.createRepo('r');
      for (let i = 0; i < 5; i++) {
        const file = join(dir, `several-${i}.bin`);
        await writeFile(file, seededBytes(10 + i, 100_000));
        await putFiles(client, { repo: 'r', path: `/f${i}.bin`, sources: [file], author: 'tester', index: false, workers: 0 });
      }
    } finally {
      await server.close();
    }
    const packs = (await readdir(join(dataDir, 'objects', 'packs'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(packs.length).toBeGreaterThan(1);
    await rm(join(packs[0]!.parentPath, packs[0]!.name));
    expect(await checkError(dataDir)).toBeUndefined();
  });

  it('takes any store, and creates it, for metadata that indexes nothing yet', async () => {
    const dataDir = join(dir, 'fresh');
    expect(await checkError(dataDir, join(dir, 'fresh-objects'))).toBeUndefined();
    expect(await readdir(join(dir, 'fresh-objects'))).toBeDefined();
  });

  describe('on S3 (s3rver process)', () => {
    let s3rver: S3rverHandle;
    let s3: S3Client;
    const saved = { ...process.env };
    beforeAll(async () => {
      s3rver = await startS3rver();
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: s3rver.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rver.secretAccessKey, AWS_REGION: 'us-east-1' });
      s3 = new S3Client({ endpoint: s3rver.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3rver.accessKeyId, secretAccessKey: s3rver.secretAccessKey } });
    }, 30_000);
    afterAll(async () => {
      s3.destroy();
      await s3rver.stop();
      process.env = saved;
    });
    const bucketExists = (Bucket: string) => s3.send(new HeadBucketCommand({ Bucket })).then(() => true, () => false);

    it('does not create a missing bucket for metadata that indexes chunks, and says why', async () => {
      const dataDir = await dataDirWithAFile('s3', 's3://match-bucket/pre', s3rver.endpoint);
      const err = await checkError(dataDir, 's3://match-bucket-typo/pre', s3rver.endpoint);
      expect(err?.code).toBe('E_STORE_UNAVAILABLE');
      expect(err?.message).toMatch(/^object store s3:\/\/match-bucket-typo\/pre at http:\/\/127\.0\.0\.1:\d+ holds none of the 1 packs sampled/);
      expect(await bucketExists('match-bucket-typo')).toBe(false);
      // Another prefix of the right bucket is the wrong store too.
      expect((await checkError(dataDir, 's3://match-bucket/other', s3rver.endpoint))?.message).toMatch(/holds none of the 1 packs sampled/);
      expect(await checkError(dataDir, 's3://match-bucket/pre', s3rver.endpoint)).toBeUndefined();
    });

    it('creates the bucket for fresh metadata', async () => {
      expect(await checkError(join(dir, 's3-fresh'), 's3://match-fresh/pre', s3rver.endpoint)).toBeUndefined();
      expect(await bucketExists('match-fresh')).toBe(true);
    });
  });
});
