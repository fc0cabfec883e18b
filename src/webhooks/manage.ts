/**
 * Subscription CRUD and redelivery: the operations behind /v1/repos/:repo/webhooks. Subscription
 * writes take the repo lock, so they serialize with the commits whose batches read the cache.
 */
import { randomUUID } from 'node:crypto';
import { fail } from '../errors.js';
import { keys } from '../meta/keys.js';
import { requireRepo } from '../meta/records.js';
import { repoLockKey, type EngineContext } from '../ops/context.js';
import type { Page, PageOptions } from '../ops/paging.js';
import type { RepoName } from '../types.js';
import { clearSubscriptionData, enqueueOps, listDeliveries, requireDeliveryById } from './deliveries.js';
import { subscriptionLockKey } from './dispatcher.js';
import type { Outbox } from './outbox.js';
import { putSubscriptionOp, type SubscriptionCache } from './subscriptions.js';
import type { DeliveryRecord, Lane, Subscription } from './types.js';
import type { SubscriptionInput, SubscriptionPatch } from './validate.js';

export interface ManageDeps {
  ctx: EngineContext;
  subs: SubscriptionCache;
  outbox: Outbox;
  /** Wake the dispatcher for a lane that got a new entry. */
  kick: (lane: Lane) => void;
}

export async function createSubscription(d: ManageDeps, repo: RepoName, input: SubscriptionInput): Promise<Subscription> {
  return d.ctx.locks.run(repoLockKey(repo), async () => {
    await requireRepo(d.ctx.meta, repo);
    const now = d.ctx.now().toISOString();
    const sub: Subscription = { id: randomUUID(), repo, ...input, createdAt: now, updatedAt: now };
    await d.ctx.meta.batch([putSubscriptionOp(sub)], { sync: true });
    d.subs.remember(sub);
    return sub;
  });
}

export async function listSubscriptions(d: ManageDeps, repo: RepoName): Promise<Subscription[]> {
  await requireRepo(d.ctx.meta, repo);
  return d.subs.forRepo(repo);
}

export async function requireSubscription(d: ManageDeps, repo: RepoName, id: string): Promise<Subscription> {
  await requireRepo(d.ctx.meta, repo);
  const sub = d.subs.get(repo, id);
  if (!sub) throw fail('E_WEBHOOK_NOT_FOUND', `webhook ${JSON.stringify(id)} not found in repo "${repo}"`, { repo, webhook: id });
  return sub;
}

export async function updateSubscription(d: ManageDeps, repo: RepoName, id: string, patch: SubscriptionPatch): Promise<Subscription> {
  return d.ctx.locks.run(repoLockKey(repo), async () => {
    const sub = await requireSubscription(d, repo, id);
    const updated: Subscription = { ...applyPatch(sub, patch), updatedAt: d.ctx.now().toISOString() };
    await d.ctx.meta.batch([putSubscriptionOp(updated)], { sync: true });
    d.subs.remember(updated);
    return updated;
  });
}

function applyPatch(sub: Subscription, patch: SubscriptionPatch): Subscription {
  const { target } = sub;
  const wrongKind = (field: string, kind: string) =>
    fail('E_INVALID_WEBHOOK', `"${field}" does not apply to this webhook: its target is of type "${kind}"`, { field });
  if (target.type === 'git' && (patch.url !== undefined || patch.secret !== undefined)) throw wrongKind(patch.url !== undefined ? 'url' : 'secret', 'git');
  if (target.type === 'http' && patch.git !== undefined) throw wrongKind('git', 'http');
  if (target.type === 'git' && patch.events?.some((e) => e !== 'commit')) {
    throw fail('E_INVALID_WEBHOOK', 'a git target receives only "commit" events', { field: 'events' });
  }
  const newTarget =
    target.type === 'http'
      ? { ...target, url: patch.url ?? target.url, secret: patch.secret === undefined ? target.secret : patch.secret }
      : { ...target, git: { ...target.git, ...patch.git } };
  return { ...sub, target: newTarget, branches: patch.branches ?? sub.branches, events: patch.events ?? sub.events, active: patch.active ?? sub.active };
}

/** Deletes the subscription with its queue and delivery log. */
export async function deleteSubscription(d: ManageDeps, repo: RepoName, id: string): Promise<void> {
  await d.ctx.locks.run(repoLockKey(repo), async () => {
    await requireSubscription(d, repo, id);
    await dropSubscription(d, repo, id);
  });
}

/** Also used when a repo is deleted. The caller holds the repo lock. */
export async function dropSubscription(d: ManageDeps, repo: RepoName, id: string): Promise<void> {
  await d.ctx.locks.run(subscriptionLockKey(repo, id), async () => {
    await d.ctx.meta.batch([{ type: 'del', key: keys.webhook(repo, id) }], { sync: true });
    d.subs.forget(repo, id);
    await clearSubscriptionData(d.ctx.meta, repo, id);
  });
}

export async function subscriptionDeliveries(d: ManageDeps, repo: RepoName, id: string, page: PageOptions): Promise<Page<DeliveryRecord>> {
  await requireSubscription(d, repo, id);
  return listDeliveries(d.ctx.meta, repo, id, page);
}

export async function getDeliveryById(d: ManageDeps, repo: RepoName, id: string, deliveryId: string): Promise<DeliveryRecord> {
  await requireSubscription(d, repo, id);
  return requireDeliveryById(d.ctx.meta, repo, id, deliveryId);
}

/**
 * Queue a finished delivery again, with the same delivery id and the same payload (receivers
 * dedupe by id). It goes to the back of its lane and gets a fresh retry period.
 */
export async function redeliver(d: ManageDeps, repo: RepoName, id: string, deliveryId: string): Promise<DeliveryRecord> {
  await requireSubscription(d, repo, id);
  const { lane, queued } = await d.ctx.locks.run(subscriptionLockKey(repo, id), async () => {
    if (!d.subs.get(repo, id)) throw fail('E_WEBHOOK_NOT_FOUND', `webhook ${JSON.stringify(id)} not found in repo "${repo}"`, { repo, webhook: id });
    const record = await requireDeliveryById(d.ctx.meta, repo, id, deliveryId);
    if (record.status === 'pending' || record.status === 'failed') {
      throw fail('E_DELIVERY_PENDING', `delivery ${deliveryId} is still queued (status ${record.status}); it is retried automatically`, { delivery: deliveryId, status: record.status });
    }
    const now = d.ctx.now().toISOString();
    const queued: DeliveryRecord = { ...record, status: 'pending', enqueuedAt: now, nextAttemptAt: undefined, redeliveries: (record.redeliveries ?? 0) + 1 };
    await d.ctx.meta.batch(enqueueOps(id, queued, d.outbox.nextSeq()), { sync: true });
    return { lane: { repo, id, branch: record.branch }, queued };
  });
  d.kick(lane);
  return queued;
}
