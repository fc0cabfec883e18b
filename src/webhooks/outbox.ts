/**
 * The transactional outbox. The engine calls these hooks while building the batch that moves a
 * branch head (under the repo lock), so a queued delivery exists if and only if its commit or
 * branch change does: nothing is lost on a crash and nothing is sent for a write that failed.
 * The hooks are synchronous; they read subscriptions from the in-memory cache.
 */
import { randomUUID } from 'node:crypto';
import { webhookSeq } from '../meta/keys.js';
import type { MetaOp } from '../meta/meta-store.js';
import type { CommitHookInput } from '../ops/context.js';
import type { BranchName, RepoName } from '../types.js';
import { enqueueOps } from './deliveries.js';
import { matchesAnyGlob } from './glob.js';
import type { EventType } from './payload.js';
import type { SubscriptionCache } from './subscriptions.js';
import { laneKey, type DeliveryRecord, type Lane, type Subscription } from './types.js';

export interface BranchHookInput {
  repo: RepoName;
  branch: BranchName;
  event: 'created' | 'deleted';
  head: string | null;
}

export class Outbox {
  private seq = 0;
  /** Lanes that got entries since the dispatcher last looked (a failed batch only costs a look). */
  private touched = new Map<string, Lane>();

  constructor(
    private readonly subs: SubscriptionCache,
    private readonly now: () => Date,
  ) {}

  /** Continue numbering after the highest sequence number found in the store. */
  startAfter(maxSeq: number): void {
    this.seq = Math.max(this.seq, maxSeq);
  }

  /** Sequence numbers only grow, and are taken under the repo lock, so they follow commit order. */
  nextSeq(): string {
    return webhookSeq(++this.seq);
  }

  commitOps(input: CommitHookInput): MetaOp[] {
    return this.eventOps(input.repo, input.branch, 'commit', { commit: input.commit.id });
  }

  branchOps(input: BranchHookInput): MetaOp[] {
    return this.eventOps(input.repo, input.branch, `branch.${input.event}`, { head: input.head });
  }

  takeTouched(): Lane[] {
    const lanes = [...this.touched.values()];
    this.touched = new Map();
    return lanes;
  }

  markTouched(lane: Lane): void {
    this.touched.set(laneKey(lane), lane);
  }

  private eventOps(repo: RepoName, branch: BranchName, event: EventType, target: { commit?: string; head?: string | null }): MetaOp[] {
    const ops: MetaOp[] = [];
    for (const sub of this.subs.forRepo(repo)) {
      if (!wants(sub, event, branch)) continue;
      const seq = this.nextSeq();
      ops.push(...enqueueOps(sub.id, this.newRecord(repo, branch, event, target, seq), seq));
      this.markTouched({ repo, id: sub.id, branch });
    }
    return ops;
  }

  private newRecord(repo: RepoName, branch: BranchName, event: EventType, target: { commit?: string; head?: string | null }, seq: string): DeliveryRecord {
    const now = this.now().toISOString();
    return { id: randomUUID(), seq, event, repo, branch, ...target, createdAt: now, status: 'pending', attempts: 0, enqueuedAt: now };
  }
}

export function wants(sub: Subscription, event: EventType, branch: string): boolean {
  return sub.active && sub.events.includes(event) && matchesAnyGlob(sub.branches, branch);
}
