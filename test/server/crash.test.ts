import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { spawnServer } from '../helpers/server-process.js';
import { api } from '../helpers/server.js';
import { putFilesViaApi } from '../helpers/upload.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('crash durability', () => {
  it('keeps every acknowledged commit and its bytes when the server is killed right after answering', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'datactl-crash-'));
    dirs.push(dataDir);
    const first = await spawnServer(dataDir);
    await api(first.url, 'POST', '/v1/repos', { name: 'durable' });
    const data = seededBytes(42, 3 * 1024 * 1024);
    const acked = [];
    for (let i = 0; i < 3; i++) acked.push((await putFilesViaApi(first.url, 'durable', 'main', { [`/v${i}.bin`]: data.subarray(i) })).json.commit.id);
    await first.kill();

    const second = await spawnServer(dataDir);
    try {
      const log = await api(second.url, 'GET', '/v1/repos/durable/commits?ref=main');
      expect(log.json.commits.map((c: any) => c.id)).toEqual([...acked].reverse());
      const res = await fetch(`${second.url}/v1/repos/durable/commits/main/file?path=/v2.bin`);
      expect(Buffer.from(await res.arrayBuffer()).equals(data.subarray(2))).toBe(true);
    } finally {
      await second.stop();
    }
  });
});
