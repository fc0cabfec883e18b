/** The subscription API: create, inspect, update, delete; write-only secrets; precise 400s. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { commit, createRepo, deliveries, subscribe } from './fixtures.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ webhooks: { backoffBaseMs: 50, backoffCapMs: 100 } });
  await createRepo(server.url, 'hooks');
});
afterAll(async () => server?.close());

const hooks = (suffix = '') => `/v1/repos/hooks/webhooks${suffix}`;

describe('webhook subscriptions', () => {
  it('never returns a secret: list and inspect show hasSecret, and URL credentials are redacted', async () => {
    const created = await subscribe(server.url, 'hooks', { url: 'https://user:pa55word@example.test/hook', secret: 'sup3r-s3cret' });
    expect(created).toMatchObject({ type: 'http', url: 'https://***@example.test/hook', hasSecret: true, branches: ['*'], active: true });
    expect(created.events).toEqual(['commit', 'branch.created', 'branch.deleted']);
    const list = await api(server.url, 'GET', hooks());
    const one = await api(server.url, 'GET', hooks(`/${created.id}`));
    for (const text of [JSON.stringify(created), list.text, one.text]) {
      expect(text).not.toContain('sup3r-s3cret');
      expect(text).not.toContain('pa55word');
    }
    expect(list.json.webhooks.find((w: any) => w.id === created.id)).toEqual(one.json);
    const unsigned = await subscribe(server.url, 'hooks', { url: 'http://127.0.0.1:9/x' });
    expect(unsigned.hasSecret).toBe(false);
  });

  it('updates url, secret, branches, events and active with PATCH, and deletes', async () => {
    const sub = await subscribe(server.url, 'hooks', { url: 'http://127.0.0.1:9/a', secret: 'one' });
    const patched = await api(server.url, 'PATCH', hooks(`/${sub.id}`), {
      url: 'http://127.0.0.1:9/b', secret: null, branches: ['main', 'release-*'], events: ['commit'], active: false,
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ url: 'http://127.0.0.1:9/b', hasSecret: false, branches: ['main', 'release-*'], events: ['commit'], active: false });
    expect(Date.parse(patched.json.updatedAt)).toBeGreaterThanOrEqual(Date.parse(sub.updatedAt));
    expect((await api(server.url, 'DELETE', hooks(`/${sub.id}`))).status).toBe(204);
    const gone = await api(server.url, 'GET', hooks(`/${sub.id}`));
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe('E_WEBHOOK_NOT_FOUND');
    expect((await api(server.url, 'PATCH', hooks(`/${sub.id}`), { active: true })).status).toBe(404);
  });

  it('rejects bad urls, globs, events and fields with 400 E_INVALID_WEBHOOK and a precise message', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ url: 'ftp://example.test/x' }, /invalid webhook url "ftp:\/\/example.test\/x": only http and https URLs are allowed, not ftp/],
      [{ url: 'not a url' }, /invalid webhook url "not a url": not an absolute URL/],
      [{ url: 'file:///etc/passwd' }, /only http and https URLs are allowed, not file/],
      [{}, /"url" is required for an http target/],
      [{ url: 'http://x.test/', branches: ['feature/*'] }, /invalid branch glob "feature\/\*": use 1-100 characters from \[A-Za-z0-9._-\] and "\*"/],
      [{ url: 'http://x.test/', branches: [] }, /"branches" must be a glob or a non-empty array/],
      [{ url: 'http://x.test/', events: ['push'] }, /unknown event "push": expected one of commit, branch.created, branch.deleted/],
      [{ url: 'http://x.test/', events: [] }, /"events" must be a non-empty array/],
      [{ url: 'http://x.test/', secret: '' }, /"secret" must be a string of 1-1024 characters/],
      [{ url: 'http://x.test/', evnets: ['commit'] }, /unknown field "evnets"/],
      [{ url: 'http://x.test/', active: 'yes' }, /"active" must be true or false/],
      [{ type: 'git', git: { url: 'https://t:x@git.test/r.git', branch: 'main', pinFile: 'data.json' } }, /"git.key" is required/],
      [{ type: 'git', git: { url: 'https://git.test/r.git', branch: 'main', pinFile: '../data.json', key: 'k' } }, /invalid pin file "..\/data.json"/],
      // Paths git refuses to track, and remote helpers (ext:: runs a command): the bumper would fail every delivery.
      [{ type: 'git', git: { url: 'https://git.test/r.git', branch: 'main', pinFile: '.git/config', key: 'k' } }, /invalid pin file "\.git\/config": .*not under \.git/],
      [{ type: 'git', git: { url: 'https://git.test/r.git', branch: 'main', pinFile: 'sub/.GIT/x.json', key: 'k' } }, /invalid pin file "sub\/\.GIT\/x\.json"/],
      [{ type: 'git', git: { url: 'ext::sh -c touch% /tmp/pwned', branch: 'main', pinFile: 'd.json', key: 'k' } }, /"git.url" must be a non-empty git remote URL|remote-helper transports/],
      [{ type: 'git', git: { url: 'ext::/tmp/evil.sh', branch: 'main', pinFile: 'd.json', key: 'k' } }, /invalid git url "ext::\/tmp\/evil\.sh": remote-helper transports \("ext::", "fd::"\) are not allowed/],
      [{ type: 'git', git: { url: 'https://git.test/r.git', branch: 'main', pinFile: 'd.json', key: 'k' }, events: ['branch.created'] }, /a git target receives only "commit" events/],
      [{ type: 'smtp' }, /invalid target type "smtp"/],
    ];
    for (const [body, message] of cases) {
      const res = await api(server.url, 'POST', hooks(), body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('E_INVALID_WEBHOOK');
      expect(res.json.error.message).toMatch(message);
    }
    const sub = await subscribe(server.url, 'hooks', { url: 'http://x.test/' });
    const bad = await api(server.url, 'PATCH', hooks(`/${sub.id}`), { url: 'gopher://x' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/only http and https URLs are allowed, not gopher/);
    const wrongKind = await api(server.url, 'PATCH', hooks(`/${sub.id}`), { git: { key: 'x' } });
    expect(wrongKind.json.error.message).toMatch(/"git" does not apply to this webhook: its target is of type "http"/);
  });

  it('keeps credentials out of validation errors', async () => {
    const res = await api(server.url, 'POST', hooks(), { type: 'git', git: { url: 'svn://me:hunter2@svn.test/r', branch: 'main', pinFile: 'd.json', key: 'k' } });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('hunter2');
    expect(res.json.error.message).toContain('svn://***@svn.test/r');
  });

  it('answers 404 for unknown repos, webhooks and deliveries', async () => {
    const noRepo = await api(server.url, 'GET', '/v1/repos/nope/webhooks');
    expect(noRepo.json.error.code).toBe('E_REPO_NOT_FOUND');
    const noHook = await api(server.url, 'GET', hooks('/00000000-0000-4000-8000-000000000000/deliveries'));
    expect([noHook.status, noHook.json.error.code]).toEqual([404, 'E_WEBHOOK_NOT_FOUND']);
    const sub = await subscribe(server.url, 'hooks', { url: 'http://x.test/' });
    const noDelivery = await api(server.url, 'POST', hooks(`/${sub.id}/deliveries/11111111-1111-4111-8111-111111111111/redeliver`));
    expect([noDelivery.status, noDelivery.json.error.code]).toEqual([404, 'E_DELIVERY_NOT_FOUND']);
  });

  it('pages the delivery log newest first', async () => {
    await createRepo(server.url, 'paged');
    const sub = await subscribe(server.url, 'paged', { url: 'http://127.0.0.1:9/never', events: ['commit'], active: true });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await commit(server.url, 'paged', 'main', { '/a': String(i) }));
    const first = await api(server.url, 'GET', `/v1/repos/paged/webhooks/${sub.id}/deliveries?limit=3`);
    const rest = await api(server.url, 'GET', `/v1/repos/paged/webhooks/${sub.id}/deliveries?limit=3&cursor=${first.json.nextCursor}`);
    expect([...first.json.deliveries, ...rest.json.deliveries].map((d: any) => d.commit)).toEqual([...ids].reverse());
    expect(rest.json.nextCursor).toBeNull();
  });

  it('drops subscriptions, queues and logs with their repo', async () => {
    await createRepo(server.url, 'doomed');
    const sub = await subscribe(server.url, 'doomed', { url: 'http://127.0.0.1:9/never' });
    await commit(server.url, 'doomed', 'main', { '/a': '1' });
    expect(await deliveries(server.url, 'doomed', sub.id)).toHaveLength(2);
    expect((await api(server.url, 'DELETE', '/v1/repos/doomed')).status).toBe(204);
    await createRepo(server.url, 'doomed');
    expect((await api(server.url, 'GET', '/v1/repos/doomed/webhooks')).json.webhooks).toEqual([]);
    for await (const [key] of server.engine.meta.entries({ gte: 'w', lt: 'x' })) expect(key).not.toContain(':doomed:');
  });
});
