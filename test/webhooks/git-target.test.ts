/**
 * The built-in git target: deliveries call the pin bumper in-process against real git (a bare
 * repo on disk as the code repo's remote). Credentials in git URLs never surface.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitSandbox, logOf, showFile, type GitSandbox } from '../helpers/git.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { commit, createRepo, deliveries, subscribe } from './fixtures.js';

let server: TestServer;
let sandbox: GitSandbox;
beforeAll(async () => {
  server = await startTestServer({ webhooks: { backoffBaseMs: 50, backoffCapMs: 100, timeoutMs: 10_000 } });
  sandbox = await gitSandbox();
});
afterAll(async () => {
  await server?.close();
  await sandbox?.cleanup();
});

describe('git pin target', () => {
  it('bumps the pin file in the code repo to each new commit, in order', async () => {
    const remote = await sandbox.bare();
    await createRepo(server.url, 'pinned');
    const sub = await subscribe(server.url, 'pinned', { type: 'git', git: { url: remote, branch: 'main', pinFile: 'configuration/data.json', key: 'train' } });
    expect(sub.events).toEqual(['commit']);
    const c1 = await commit(server.url, 'pinned', 'main', { '/train.csv': 'a\n1\n' });
    const c2 = await commit(server.url, 'pinned', 'main', { '/train.csv': 'a\n2\n' });
    await waitFor(async () => (await deliveries(server.url, 'pinned', sub.id)).every((d) => d.status === 'delivered'), 20_000);

    const pins = JSON.parse((await showFile(remote, 'main', 'configuration/data.json'))!);
    expect(pins.train).toEqual({ repo: 'pinned', branch: 'main', commit: c2 });
    const log = await deliveries(server.url, 'pinned', sub.id);
    expect(log.map((d) => d.commit)).toEqual([c2, c1]);
    expect(log[0].lastResult).toMatch(/^pushed [0-9a-f]{40}: /);
    expect((await logOf(remote, 'main')).length).toBe(2);
  });

  it('retries a failing push and never shows the credentials of the git URL', async () => {
    await createRepo(server.url, 'secret-git');
    const sub = await subscribe(server.url, 'secret-git', {
      type: 'git', git: { url: 'https://bot:hunter2-token@127.0.0.1:9/code.git', branch: 'main', pinFile: 'data.json', key: 'k' },
    });
    expect(sub.git.url).toBe('https://***@127.0.0.1:9/code.git');
    await commit(server.url, 'secret-git', 'main', { '/a': '1' });
    await waitFor(async () => (await deliveries(server.url, 'secret-git', sub.id))[0].attempts >= 2, 20_000);
    const res = await api(server.url, 'GET', `/v1/repos/secret-git/webhooks/${sub.id}/deliveries`);
    expect(res.json.deliveries[0]).toMatchObject({ status: 'failed', lastError: expect.any(String) });
    expect(res.text).not.toContain('hunter2');
    expect((await api(server.url, 'GET', `/v1/repos/secret-git/webhooks`)).text).not.toContain('hunter2');
  });
});
