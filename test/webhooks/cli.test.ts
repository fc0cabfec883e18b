/** `datactl webhook ...` through the real binary against a real server and receiver. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { Receiver } from '../helpers/receiver.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { commit, createRepo } from './fixtures.js';

let server: TestServer;
let rx: Receiver;
beforeAll(async () => {
  server = await startTestServer({ webhooks: { backoffBaseMs: 30, backoffCapMs: 60, retryPeriodMs: 300 } });
  rx = await Receiver.start((_req, i) => (i === 0 ? 500 : 200));
  await createRepo(server.url, 'cli');
});
afterAll(async () => {
  await rx?.down();
  await server?.close();
});

const cli = (args: string[], env: Record<string, string> = {}) => runCli([...args, '--server', server.url], { env });
async function cliJson(args: string[], env: Record<string, string> = {}): Promise<any> {
  const res = await cli([...args, '--json'], env);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout);
}

describe('datactl webhook', () => {
  it('adds, lists, shows deliveries, redelivers and removes', async () => {
    const added = await cliJson(['webhook', 'add', 'cli', '--url', rx.url, '--branch', 'main', '--events', 'commit'], { DATACTL_WEBHOOK_SECRET: 'from-env' });
    expect(added).toMatchObject({ type: 'http', url: rx.url, hasSecret: true, branches: ['main'], events: ['commit'] });
    const git = await cliJson(['webhook', 'add', 'cli', '--git', 'https://bot:t0ken@git.test/code.git', '--pin-file', 'configuration/data.json', '--pin-key', 'train', '--inactive']);
    expect(git).toMatchObject({ type: 'git', git: { url: 'https://***@git.test/code.git', branch: 'main', pinFile: 'configuration/data.json', key: 'train' }, events: ['commit'], active: false });

    const listed = await cli(['webhook', 'list', 'cli']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(added.id);
    expect(listed.stdout).toContain('git https://***@git.test/code.git main:configuration/data.json [train]');
    expect(listed.stdout + JSON.stringify(await cliJson(['webhook', 'list', 'cli']))).not.toMatch(/from-env|t0ken/);

    const c = await commit(server.url, 'cli', 'main', { '/a': '1' });
    // The receiver fails the first attempt; the retry period is 300 ms, so it is retried or dead soon.
    await waitFor(async () => (await cliJson(['webhook', 'deliveries', 'cli', added.id])).deliveries[0]?.status !== 'pending');
    await waitFor(async () => ['delivered', 'dead'].includes((await cliJson(['webhook', 'deliveries', 'cli', added.id])).deliveries[0].status));
    const { deliveries } = await cliJson(['webhook', 'deliveries', 'cli', added.id, '--limit', '5']);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ event: 'commit', commit: c });
    const table = await cli(['webhook', 'deliveries', 'cli', added.id]);
    expect(table.stdout).toMatch(/DELIVERY\s+EVENT\s+BRANCH\s+COMMIT\s+STATUS\s+ATTEMPTS/);
    expect(table.stdout).toContain(deliveries[0].id);

    const before = rx.accepted().length;
    const redone = await cliJson(['webhook', 'redeliver', 'cli', added.id, deliveries[0].id]);
    expect(redone).toMatchObject({ id: deliveries[0].id, status: 'pending' });
    await waitFor(() => rx.accepted().length === before + 1);
    expect(rx.accepted().at(-1)!.headers['x-datactl-delivery']).toBe(deliveries[0].id);

    const removed = await cli(['webhook', 'remove', 'cli', git.id]);
    expect([removed.code, removed.stdout.trim()]).toEqual([0, `deleted webhook ${git.id}`]);
    const missing = await cli(['webhook', 'remove', 'cli', git.id]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^datactl: webhook ".*" not found in repo "cli"/);
  });

  it('reports usage errors with exit code 2', async () => {
    const both = await cli(['webhook', 'add', 'cli', '--url', rx.url, '--git', 'https://git.test/x.git']);
    expect([both.code, both.stderr.trim()]).toEqual([2, 'datactl: give exactly one of --url URL or --git URL']);
    const badEvent = await cli(['webhook', 'add', 'cli', '--url', rx.url, '--events', 'commit,push']);
    expect(badEvent.code).toBe(2);
    expect(badEvent.stderr).toContain('unknown event "push"');
    const badUrl = await cli(['webhook', 'add', 'cli', '--url', 'ftp://x.test/']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('only http and https URLs are allowed');
  });
});
