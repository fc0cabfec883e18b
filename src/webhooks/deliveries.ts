/**
 * The outbox queue and the delivery log in LevelDB (key layout in src/meta/keys.ts):
 * a queue entry `wq:<repo>:<id>:<branch>:<qseq>` -> log seq says "this delivery still has to go
 * out on this lane"; the log record `wd:<repo>:<id>:<seq>` holds the delivery and its status;
 * `wi:<repo>:<id>:<deliveryId>` -> seq finds it by delivery id.
 */
import { fail } from '../errors.js';
import { keys, keyTail } from '../meta/keys.js';
import type { MetaOp, MetaStore } from '../meta/meta-store.js';
import { decodeCursor, encodeCursor, pageLimit, type Page, type PageOptions } from '../ops/paging.js';
import type { BranchName, RepoName } from '../types.js';
import type { DeliveryRecord, Lane } from './types.js';

/** The ops that enqueue a delivery: log record, id index and the queue entry at `qseq`. */
export function enqueueOps(subId: string, record: DeliveryRecord, qseq: string): MetaOp[] {
  return [
    putDeliveryOp(subId, record),
    { type: 'put', key: keys.webhookDeliveryIndex(record.repo, subId, record.id), value: record.seq },
    { type: 'put', key: keys.webhookQueue(record.repo, subId, record.branch, qseq), value: record.seq },
  ];
}

export function putDeliveryOp(subId: string, record: DeliveryRecord): MetaOp {
  return { type: 'put', key: keys.webhookDelivery(record.repo, subId, record.seq), value: JSON.stringify(record) };
}

export interface QueueHead {
  queueKey: string;
  seq: string;
}

/** The oldest queued delivery of a lane, or undefined when the lane is empty. */
export async function queueHead(meta: MetaStore, lane: Lane): Promise<QueueHead | undefined> {
  for await (const [queueKey, seq] of meta.entries({ ...keys.webhookLaneRange(lane.repo, lane.id, lane.branch), limit: 1 })) {
    return { queueKey, seq };
  }
  return undefined;
}

/** Every lane with queued deliveries and the highest sequence number in use, for startup. */
export async function scanQueue(meta: MetaStore, repo: RepoName, subId: string): Promise<{ branches: BranchName[]; maxSeq: number }> {
  const branches = new Set<BranchName>();
  let maxSeq = 0;
  for await (const [key] of meta.entries(keys.webhookQueueRange(repo, subId))) {
    const parts = key.split(':');
    branches.add(parts[parts.length - 2] as BranchName);
    maxSeq = Math.max(maxSeq, Number(parts[parts.length - 1]));
  }
  for await (const [key] of meta.entries({ ...keys.webhookDeliveryRange(repo, subId), reverse: true, limit: 1 })) {
    maxSeq = Math.max(maxSeq, Number(keyTail(key)));
  }
  return { branches: [...branches], maxSeq };
}

export async function getDelivery(meta: MetaStore, repo: RepoName, subId: string, seq: string): Promise<DeliveryRecord | undefined> {
  const v = await meta.get(keys.webhookDelivery(repo, subId, seq));
  return v === undefined ? undefined : (JSON.parse(v) as DeliveryRecord);
}

export async function requireDeliveryById(meta: MetaStore, repo: RepoName, subId: string, deliveryId: string): Promise<DeliveryRecord> {
  const seq = /^[0-9a-f-]{36}$/.test(deliveryId) ? await meta.get(keys.webhookDeliveryIndex(repo, subId, deliveryId)) : undefined;
  const record = seq === undefined ? undefined : await getDelivery(meta, repo, subId, seq);
  if (!record) throw fail('E_DELIVERY_NOT_FOUND', `delivery ${JSON.stringify(deliveryId)} not found for webhook ${subId}`, { webhook: subId, delivery: deliveryId });
  return record;
}

/** The delivery log, newest first; the cursor is the last seq shown. */
export async function listDeliveries(meta: MetaStore, repo: RepoName, subId: string, page: PageOptions = {}): Promise<Page<DeliveryRecord>> {
  const limit = pageLimit(page.limit);
  const after = decodeCursor(page.cursor);
  const range = keys.webhookDeliveryRange(repo, subId);
  const items: DeliveryRecord[] = [];
  const gt = after === undefined ? undefined : keys.webhookDelivery(repo, subId, after);
  for await (const [, value] of meta.entries({ ...range, gt, reverse: true, limit: limit + 1 })) items.push(JSON.parse(value) as DeliveryRecord);
  const more = items.length > limit;
  items.length = Math.min(items.length, limit);
  return { items, nextCursor: more ? encodeCursor(items[items.length - 1]!.seq) : null };
}

/** Drop a subscription's queue, log and index (not atomic; callers hold the subscription lock). */
export async function clearSubscriptionData(meta: MetaStore, repo: RepoName, subId: string): Promise<void> {
  await meta.clear(keys.webhookQueueRange(repo, subId));
  await meta.clear(keys.webhookDeliveryRange(repo, subId));
  await meta.clear(keys.webhookDeliveryIndexRange(repo, subId));
}
