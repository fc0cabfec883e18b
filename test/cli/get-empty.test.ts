/** `get -r` of a tree with no files still leaves the directory it reports writing to. */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { putFilesViaApi } from '../helpers/upload.js';

let server: TestServer;
let work: string;
beforeAll(async () => {
  server = await startTestServer();
  work = await mkdtemp(path.join(os.tmpdir(), 'datactl-get-empty-'));
  await api(server.url, 'POST', '/v1/repos', { name: 'e' });
  await putFilesViaApi(server.url, 'e', 'main', { '/only.txt': 'x' });
  await api(server.url, 'POST', '/v1/repos/e/commits', { branch: 'main', message: 'empty it', author: 't', changes: [{ op: 'delete', path: '/only.txt' }] });
});
afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('get -r of an empty tree', () => {
  it('creates the output directory, empty, as it says', async () => {
    const out = path.join(work, 'out');
    const r = await runCli(['--server', server.url, 'get', 'file', 'e@main:/', '-r', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^wrote 0 files \(0 B\) to .*out from commit [0-9a-f]{12}\n$/);
    expect((await stat(out)).isDirectory()).toBe(true);
    expect(await readdir(out)).toEqual([]);
  });
});
