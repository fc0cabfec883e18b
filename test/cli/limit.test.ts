/** `--limit` cuts a listing short and says so, in text and in JSON, through the real CLI and server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { putFilesViaApi } from '../helpers/upload.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await api(server.url, 'POST', '/v1/repos', { name: 'lim' });
  await putFilesViaApi(server.url, 'lim', 'main', { '/a': '1' });
  await putFilesViaApi(server.url, 'lim', 'main', { '/b': '2', '/c': '3', '/d': '4' });
});
afterAll(() => server?.close());

const cli = async (...args: string[]) => {
  const r = await runCli(['--server', server.url, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};

describe('--limit', () => {
  it('says when a listing was cut short, and not when everything fit', async () => {
    const json = JSON.parse(await cli('list', 'file', 'lim@main', '--limit', '2', '--json'));
    expect(json.entries.map((e: { name: string }) => e.name)).toEqual(['a', 'b']);
    expect(json.truncated).toBe(true);
    expect(await cli('list', 'file', 'lim@main', '--limit', '2')).toMatch(/\n\(more entries than --limit shows\)\n$/);
    expect(JSON.parse(await cli('list', 'file', 'lim@main', '--limit', '4', '--json'))).not.toHaveProperty('truncated');
    expect(await cli('list', 'file', 'lim@main', '--limit', '4')).not.toContain('--limit');
  });

  it('does the same for diff and the log', async () => {
    const diff = JSON.parse(await cli('diff', 'lim@main~1', 'lim@main', '--limit', '2', '--json'));
    expect(diff.changes).toHaveLength(2);
    expect(diff.truncated).toBe(true);
    expect(await cli('diff', 'lim@main~1', 'lim@main', '--limit', '2')).toContain('(more changes than --limit shows)');
    expect(JSON.parse(await cli('diff', 'lim@main~1', 'lim@main', '--limit', '3', '--json'))).not.toHaveProperty('truncated');
    const log = JSON.parse(await cli('list', 'commit', 'lim@main', '--limit', '1', '--json'));
    expect(log.commits).toHaveLength(1);
    expect(log.truncated).toBe(true);
    expect(await cli('list', 'commit', 'lim@main', '--limit', '2')).not.toContain('--limit');
  });
});
