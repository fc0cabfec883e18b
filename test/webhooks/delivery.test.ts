/**
 * Webhook delivery against real HTTP receivers (node:http on loopback ports) and a real server
 * listening on a port. Backoff is shrunk to milliseconds; every wait is a condition with a deadline.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blake3Hex } from '../../src/hash/blake3.js';
import { Receiver } from '../helpers/receiver.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { commit, createRepo, deliveries, hmacHeader, subscribe } from './fixtures.js';

const receivers: Receiver[] = [];
async function receiver(...args: Parameters<typeof Receiver.start>): Promise<Receiver> {
  const r = await Receiver.start(...args);
  receivers.push(r);
  return r;
}
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.down();
});

describe('webhook delivery', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ webhooks: { backoffBaseMs: 100, backoffCapMs: 400, timeoutMs: 5000 } });
  });
  afterAll(async () => server?.close());

  it('delivers a commit event signed with HMAC-SHA256 of the raw body, under the delivery id of the body', async () => {
    await createRepo(server.url, 'signed');
    const rx = await receiver();
    const secret = 'It is a secret to everybody';
    await subscribe(server.url, 'signed', { url: rx.url, secret });
    const first = await commit(server.url, 'signed', 'main', { '/a.csv': 'a,b\n1,2\n', '/dir/gone.txt': 'bye' });
    const second = await commit(server.url, 'signed', 'main', { '/a.csv': 'a,b\n1,3\n', '/new.txt': 'hello' });
    await api(server.url, 'DELETE', '/v1/repos/signed/branches/main/file?path=/dir/gone.txt');
    await waitFor(() => rx.requests.length === 4);

    expect(rx.requests.map((r) => r.json.event)).toEqual(['branch.created', 'commit', 'commit', 'commit']);
    for (const r of rx.requests) {
      expect(r.headers['x-datactl-signature-256']).toBe(hmacHeader(secret, r.body));
      expect(r.headers['x-datactl-delivery']).toBe(r.json.deliveryId);
      expect(r.headers['x-datactl-event']).toBe(r.json.event);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['user-agent']).toMatch(/^datactl-webhooks\/\d+\.\d+\.\d+/);
    }
    expect(new Set(rx.requests.map((r) => r.json.deliveryId)).size).toBe(4);
    expect(rx.requests[0]!.json).toEqual({ event: 'branch.created', deliveryId: rx.requests[0]!.json.deliveryId, repo: 'signed', branch: 'main', head: null });

    const event = rx.requests[2]!.json;
    expect(event.commit).toMatchObject({ id: second, parents: [first], author: 'test' });
    expect(event.pin).toEqual({ repo: 'signed', branch: 'main', commit: second });
    expect(event.changes).toEqual({
      added: 1,
      modified: 1,
      deleted: 0,
      truncated: false,
      paths: [
        { type: 'modified', path: '/a.csv', size: 8, hash: blake3Hex('a,b\n1,3\n'), oldSize: 8, oldHash: blake3Hex('a,b\n1,2\n') },
        { type: 'added', path: '/new.txt', size: 5, hash: blake3Hex('hello') },
      ],
    });
    const root = rx.requests[1]!.json;
    expect(root.commit.parents).toEqual([]);
    expect(root.changes.paths.map((p: any) => [p.type, p.path])).toEqual([['added', '/a.csv'], ['added', '/dir/gone.txt']]);
    const deletion = rx.requests[3]!.json;
    expect(deletion.changes).toMatchObject({ added: 0, modified: 0, deleted: 1, paths: [{ type: 'deleted', path: '/dir/gone.txt', oldSize: 3, oldHash: blake3Hex('bye') }] });
  });

  it('lists the first 100 changed paths and counts them all', async () => {
    await createRepo(server.url, 'wide');
    const rx = await receiver();
    await subscribe(server.url, 'wide', { url: rx.url, events: ['commit'] });
    const files = Object.fromEntries(Array.from({ length: 130 }, (_, i) => [`/f${String(i).padStart(3, '0')}.txt`, `file ${i}`]));
    await commit(server.url, 'wide', 'main', files);
    await waitFor(() => rx.requests.length === 1);
    const { changes } = rx.requests[0]!.json;
    expect(changes).toMatchObject({ added: 130, modified: 0, deleted: 0, truncated: true });
    expect(changes.paths).toHaveLength(100);
    expect(changes.paths[99].path).toBe('/f099.txt');
  });

  it('queues only events matching the branch globs and event types, including branch.created and branch.deleted', async () => {
    await createRepo(server.url, 'filtered');
    const features = await receiver();
    const mainCommits = await receiver();
    const a = await subscribe(server.url, 'filtered', { url: features.url, branches: ['feature-*'], events: ['branch.created', 'branch.deleted'] });
    const b = await subscribe(server.url, 'filtered', { url: mainCommits.url, branches: 'main', events: ['commit'] });
    const onMain = await commit(server.url, 'filtered', 'main', { '/x': '1' });
    expect((await api(server.url, 'POST', '/v1/repos/filtered/branches', { name: 'feature-x', head: 'main' })).status).toBe(201);
    const onFeature = await commit(server.url, 'filtered', 'feature-x', { '/y': '2' });
    expect((await api(server.url, 'POST', '/v1/repos/filtered/branches', { name: 'other' })).status).toBe(201);
    await commit(server.url, 'filtered', 'other', { '/z': '3' });
    expect((await api(server.url, 'DELETE', '/v1/repos/filtered/branches/feature-x')).status).toBe(204);

    // The outbox is written in the same batch as each change, so the logs are complete already.
    const logA = (await deliveries(server.url, 'filtered', a.id)).reverse();
    expect(logA.map((d) => [d.event, d.branch, d.head])).toEqual([
      ['branch.created', 'feature-x', onMain],
      ['branch.deleted', 'feature-x', onFeature],
    ]);
    const logB = await deliveries(server.url, 'filtered', b.id);
    expect(logB.map((d) => [d.event, d.branch, d.commit])).toEqual([['commit', 'main', onMain]]);

    await waitFor(() => features.requests.length === 2 && mainCommits.requests.length === 1);
    expect(features.requests.map((r) => [r.json.event, r.json.branch, r.json.head])).toEqual([
      ['branch.created', 'feature-x', onMain],
      ['branch.deleted', 'feature-x', onFeature],
    ]);
    expect(mainCommits.requests[0]!.json.pin).toEqual({ repo: 'filtered', branch: 'main', commit: onMain });
  });

  it('queues nothing for an inactive subscription and resumes when it is reactivated', async () => {
    await createRepo(server.url, 'paused');
    const rx = await receiver();
    const sub = await subscribe(server.url, 'paused', { url: rx.url, events: ['commit'], active: false });
    await commit(server.url, 'paused', 'main', { '/a': '1' });
    expect(await deliveries(server.url, 'paused', sub.id)).toEqual([]);
    expect((await api(server.url, 'PATCH', `/v1/repos/paused/webhooks/${sub.id}`, { active: true })).json.active).toBe(true);
    const c = await commit(server.url, 'paused', 'main', { '/a': '2' });
    await waitFor(() => rx.requests.length === 1);
    expect(rx.requests[0]!.json.commit.id).toBe(c);
  });

  it('never sends event 2 before event 1 succeeded, when the first attempt of event 1 fails', async () => {
    await createRepo(server.url, 'ordered');
    const rx = await receiver((_req, i) => (i === 0 ? 500 : 200));
    await subscribe(server.url, 'ordered', { url: rx.url, events: ['commit'] });
    const c1 = await commit(server.url, 'ordered', 'main', { '/a': '1' });
    const c2 = await commit(server.url, 'ordered', 'main', { '/a': '2' });
    const c3 = await commit(server.url, 'ordered', 'main', { '/a': '3' });
    await waitFor(() => rx.accepted().length === 3);
    expect(rx.requests.map((r) => [r.json.commit.id, r.answer])).toEqual([
      [c1, 500],
      [c1, 200],
      [c2, 200],
      [c3, 200],
    ]);
    expect(rx.requests[0]!.body).toBe(rx.requests[1]!.body);
  });

  it('keeps branches of one subscription independent: a failing event on one branch does not hold back another', async () => {
    await createRepo(server.url, 'lanes');
    const rx = await receiver((req) => (req.json.branch === 'stuck' ? 503 : 200));
    const sub = await subscribe(server.url, 'lanes', { url: rx.url, events: ['commit'] });
    await commit(server.url, 'lanes', 'stuck', { '/a': '1' });
    const ok = await commit(server.url, 'lanes', 'main', { '/a': '1' });
    await waitFor(() => rx.accepted().length === 1);
    expect(rx.accepted()[0]!.json.commit.id).toBe(ok);
    const log = await deliveries(server.url, 'lanes', sub.id);
    expect(log.find((d) => d.branch === 'stuck')).toMatchObject({ lastStatusCode: 503, lastError: 'receiver answered HTTP 503' });
  });

  it('measures the delay from commit acknowledgement to receipt', async () => {
    await createRepo(server.url, 'latency');
    const rx = await receiver();
    await subscribe(server.url, 'latency', { url: rx.url, events: ['commit'] });
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      const before = rx.requests.length;
      await commit(server.url, 'latency', 'main', { '/n.txt': String(i) });
      const acked = performance.now();
      await waitFor(() => rx.requests.length > before, 5000, 1);
      delays.push(rx.requests[before]!.at - acked);
    }
    const sorted = [...delays].sort((x, y) => x - y);
    const median = (sorted[9]! + sorted[10]!) / 2;
    console.info(`webhook latency from commit ack to receipt over 20 commits: median ${median.toFixed(1)} ms, max ${sorted[19]!.toFixed(1)} ms (negative: the event arrived before the client read the ack)`);
    expect(median).toBeLessThan(250);
  });
});

describe('isolation from a receiver that never answers', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ webhooks: { backoffBaseMs: 100, backoffCapMs: 400, timeoutMs: 20_000 } });
  });
  afterAll(async () => server?.close());

  it('delays neither commits nor another subscription, and refuses to redeliver what is still queued', async () => {
    await createRepo(server.url, 'slow');
    const slow = await receiver(() => 'hang');
    const fast = await receiver();
    const stuck = await subscribe(server.url, 'slow', { url: slow.url, events: ['commit'] });
    await subscribe(server.url, 'slow', { url: fast.url, events: ['commit'] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      ids.push(await commit(server.url, 'slow', 'main', { '/a': String(i) }));
      expect(performance.now() - started).toBeLessThan(2000);
    }
    await waitFor(() => fast.requests.length === 5);
    expect(fast.requests.map((r) => r.json.commit.id)).toEqual(ids);
    // The slow receiver is still holding its first request: not timed out, not retried.
    expect(slow.requests).toHaveLength(1);
    const log = await deliveries(server.url, 'slow', stuck.id);
    expect(log.map((d) => d.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    const redo = await api(server.url, 'POST', `/v1/repos/slow/webhooks/${stuck.id}/deliveries/${log[4].id}/redeliver`);
    expect(redo.status).toBe(409);
    expect(redo.json.error.code).toBe('E_DELIVERY_PENDING');
  });
});

describe('dead-lettering and redelivery', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ webhooks: { backoffBaseMs: 40, backoffCapMs: 120, retryPeriodMs: 700, timeoutMs: 2000 } });
  });
  afterAll(async () => server?.close());

  it('dead-letters after the retry period, logs attempts and the last error, and redelivers under the same delivery id', async () => {
    await createRepo(server.url, 'dead');
    const rx = await receiver(() => 503);
    const sub = await subscribe(server.url, 'dead', { url: rx.url, secret: 'k', events: ['commit'] });
    const c1 = await commit(server.url, 'dead', 'main', { '/a': '1' });
    const c2 = await commit(server.url, 'dead', 'main', { '/a': '2' });
    await waitFor(async () => (await deliveries(server.url, 'dead', sub.id)).every((d) => d.status === 'dead'), 10_000);

    const [second, first] = await deliveries(server.url, 'dead', sub.id);
    expect(first).toMatchObject({ event: 'commit', commit: c1, status: 'dead', lastStatusCode: 503, lastError: 'receiver answered HTTP 503', nextAttemptAt: null, deliveredAt: null });
    expect(second).toMatchObject({ commit: c2, status: 'dead' });
    expect(first.attempts).toBeGreaterThanOrEqual(3);
    expect(first.lastLatencyMs).toEqual(expect.any(Number));
    expect(Date.parse(first.lastAttemptAt) - Date.parse(first.createdAt)).toBeGreaterThanOrEqual(700);
    const firstBodies = rx.requests.filter((r) => r.json.commit.id === c1);
    expect(firstBodies).toHaveLength(first.attempts);
    expect(new Set(firstBodies.map((r) => r.body)).size).toBe(1);
    // Event 2 waited for event 1 to be dead-lettered.
    const lastOfFirst = rx.requests.lastIndexOf(firstBodies[firstBodies.length - 1]!);
    expect(rx.requests.findIndex((r) => r.json.commit.id === c2)).toBeGreaterThan(lastOfFirst);

    rx.behavior = () => 200;
    const redo = await api(server.url, 'POST', `/v1/repos/dead/webhooks/${sub.id}/deliveries/${first.id}/redeliver`);
    expect(redo.status).toBe(202);
    expect(redo.json).toMatchObject({ id: first.id, status: 'pending', redeliveries: 1 });
    await waitFor(() => rx.accepted().length === 1);
    const again = rx.accepted()[0]!;
    expect(again.headers['x-datactl-delivery']).toBe(first.id);
    expect(again.body).toBe(firstBodies[0]!.body);
    expect(again.headers['x-datactl-signature-256']).toBe(hmacHeader('k', again.body));
    await waitFor(async () => (await api(server.url, 'GET', `/v1/repos/dead/webhooks/${sub.id}/deliveries/${first.id}`)).json.status === 'delivered');
    const after = (await api(server.url, 'GET', `/v1/repos/dead/webhooks/${sub.id}/deliveries/${first.id}`)).json;
    expect(after).toMatchObject({ status: 'delivered', lastStatusCode: 200, lastError: null, attempts: first.attempts + 1 });
  });

  it('records connection failures with their cause', async () => {
    await createRepo(server.url, 'refused');
    const rx = await receiver();
    await rx.down();
    const sub = await subscribe(server.url, 'refused', { url: rx.url, events: ['commit'] });
    await commit(server.url, 'refused', 'main', { '/a': '1' });
    await waitFor(async () => (await deliveries(server.url, 'refused', sub.id))[0].attempts >= 1);
    const [d] = await deliveries(server.url, 'refused', sub.id);
    expect(d.lastError).toMatch(/ECONNREFUSED/);
    expect(d.lastStatusCode).toBeNull();
  });
});
