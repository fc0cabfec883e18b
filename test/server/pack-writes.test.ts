/**
 * `datactl serve` writes packs on the local disk with O_DIRECT, so a put does not fill the page
 * cache with bytes it never reads back; `--no-direct-io` (or DATACTL_DIRECT_IO=0) writes them
 * through it. Seen from outside, as a user would check it: util-linux's fincore tells which pages
 * of the pack files the page cache holds.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { cachedPages, hasFincore, takesDirectIo } from '../helpers/page-cache.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { spawnServer } from '../helpers/server-process.js';

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'datactl-pack-writes-'));
const directSupported = await takesDirectIo(root);

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Put a 3 MB file through a server started with `args`/`env`; the cached pages of its packs, and their total pages. */
async function putAndCount(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ cached: number; pages: number }> {
  const dataDir = path.join(root, name);
  const file = path.join(root, `${name}.bin`);
  await fs.writeFile(file, seededBytes(7, 3_000_000));
  const server = await spawnServer(dataDir, args, env);
  try {
    const cli = (...a: string[]) => runCli(['--server', server.url, ...a]);
    expect((await cli('repo', 'create', 'r')).code).toBe(0);
    const put = await cli('put', 'file', 'r@main:/data.bin', '-f', file, '-m', 'v1');
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
  } finally {
    await server.stop();
  }
  const packs = (await fs.readdir(path.join(dataDir, 'objects', 'packs'), { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
  expect(packs.length).toBeGreaterThan(0);
  return cachedPages(packs);
}

describe.skipIf(!directSupported || !hasFincore)('datactl serve: pack writes', () => {
  it('writes packs with O_DIRECT by default: none of their pages stay in the page cache', async () => {
    const { cached, pages } = await putAndCount('default', []);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(3_000_000 / 4096));
    expect(cached).toBe(0);
  });

  it('--no-direct-io writes them through the page cache', async () => {
    const { cached, pages } = await putAndCount('flag', ['--no-direct-io']);
    expect(cached).toBe(pages);
  });

  it('DATACTL_DIRECT_IO=0 does the same', async () => {
    const { cached, pages } = await putAndCount('env', [], { DATACTL_DIRECT_IO: '0' });
    expect(cached).toBe(pages);
  });
});
