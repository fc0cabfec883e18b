/**
 * Durability of the outbox with the server as a real process: restarts and SIGKILL while a
 * receiver is failing, refusing connections or holding requests. Backoff is shrunk through the
 * environment the server reads.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Receiver, type Behavior } from '../helpers/receiver.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { waitFor } from '../helpers/wait.js';
import { commit, createRepo, deliveries, subscribe } from './fixtures.js';

const FAST_RETRIES = {
  DATACTL_WEBHOOK_BACKOFF_BASE_MS: '50',
  DATACTL_WEBHOOK_BACKOFF_CAP_MS: '200',
  DATACTL_WEBHOOK_RETRY_PERIOD: '10m',
  DATACTL_WEBHOOK_TIMEOUT_MS: '2000',
};

const dirs: string[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'datactl-webhooks-'));
  dirs.push(d);
  return d;
}

async function serve(dir: string): Promise<ServerProcess> {
  const s = await spawnServer(dir, [], FAST_RETRIES);
  cleanups.push(() => s.stop());
  return s;
}

async function receiver(behavior: Behavior): Promise<Receiver> {
  const r = await Receiver.start(behavior);
  cleanups.push(() => r.down());
  return r;
}

describe('webhook outbox across restarts', () => {
  it('delivers every event in commit order once the receiver is back, across a server restart, with duplicates only under the same delivery id', async () => {
    const dir = await dataDir();
    const rx = await receiver(() => 500);
    const first = await serve(dir);
    await createRepo(first.url, 'events');
    const sub = await subscribe(first.url, 'events', { url: rx.url, events: ['commit'] });
    const commits: string[] = [];
    for (let i = 0; i < 3; i++) commits.push(await commit(first.url, 'events', 'main', { '/v.txt': `v${i}` }));
    await waitFor(() => rx.requests.length >= 3); // the first event is being retried
    await rx.down(); // now connections are refused
    for (let i = 3; i < 5; i++) commits.push(await commit(first.url, 'events', 'main', { '/v.txt': `v${i}` }));
    await first.stop();

    const second = await serve(dir);
    commits.push(await commit(second.url, 'events', 'main', { '/v.txt': 'v5' }));
    rx.behavior = () => 200;
    await rx.up();
    await waitFor(() => new Set(rx.accepted().map((r) => r.json.commit.id)).size === commits.length, 20_000);

    const acceptedOrder = rx.accepted().map((r) => r.json.commit.id);
    expect([...new Set(acceptedOrder)]).toEqual(commits);
    const idsByCommit = new Map<string, Set<string>>();
    for (const r of rx.requests) {
      expect(r.headers['x-datactl-delivery']).toBe(r.json.deliveryId);
      idsByCommit.set(r.json.commit.id, (idsByCommit.get(r.json.commit.id) ?? new Set()).add(r.json.deliveryId));
    }
    expect([...idsByCommit.values()].map((ids) => ids.size)).toEqual(commits.map(() => 1));
    await waitFor(async () => (await deliveries(second.url, 'events', sub.id)).every((d) => d.status === 'delivered'));
    const log = await deliveries(second.url, 'events', sub.id);
    expect(log.map((d) => d.commit)).toEqual([...commits].reverse());
    expect(log[log.length - 1].attempts).toBeGreaterThan(1);
  });

  it('delivers the event of a commit acknowledged right before SIGKILL once the server is back', async () => {
    const dir = await dataDir();
    const rx = await receiver(() => 'hang');
    const first = await serve(dir);
    await createRepo(first.url, 'killed');
    const sub = await subscribe(first.url, 'killed', { url: rx.url, events: ['commit'] });
    const acked = await commit(first.url, 'killed', 'main', { '/a.txt': 'acknowledged' });
    await first.kill();

    rx.behavior = () => 200;
    const second = await serve(dir);
    await waitFor(() => rx.accepted().length === 1, 20_000);
    const delivered = rx.accepted()[0]!;
    expect(delivered.json.commit.id).toBe(acked);
    // An attempt cut off by the kill reaches the receiver again under the same delivery id.
    expect(new Set(rx.requests.map((r) => r.json.deliveryId))).toEqual(new Set([delivered.json.deliveryId]));
    await waitFor(async () => (await deliveries(second.url, 'killed', sub.id))[0].status === 'delivered');
    expect((await deliveries(second.url, 'killed', sub.id))[0].id).toBe(delivered.json.deliveryId);
  });
});
