/**
 * Delivers queued events. Each (subscription, branch) is a lane: its deliveries go out strictly
 * in queue (= commit) order, the next one only after the previous was delivered or dead-lettered.
 * Lanes are independent, so a slow or dead receiver delays only its own lanes; attempts in flight
 * are bounded overall and per subscription. Nothing polls: lanes are kicked after writes
 * (engine afterWrite) and a timer per waiting lane handles retries.
 */
import { DatactlError } from '../errors.js';
import type { MetaStore } from '../meta/meta-store.js';
import type { KeyedLock } from '../util/keyed-lock.js';
import { Semaphore } from '../util/semaphore.js';
import type { PayloadBuilder } from './build-payload.js';
import { getDelivery, putDeliveryOp, queueHead, type QueueHead } from './deliveries.js';
import { applyOutcome, isFinal, type Outcome, type RetryPolicy } from './outcome.js';
import type { SubscriptionCache } from './subscriptions.js';
import type { WebhookTarget } from './targets/target.js';
import { laneKey, type DeliveryRecord, type Lane, type Subscription } from './types.js';

export interface WebhookLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface DispatcherDeps {
  meta: MetaStore;
  subs: SubscriptionCache;
  locks: KeyedLock;
  payloads: PayloadBuilder;
  targetFor: (sub: Subscription) => WebhookTarget;
  policy: RetryPolicy;
  concurrency: number;
  perSubscriptionConcurrency: number;
  log: WebhookLogger;
}

interface LaneState {
  lane: Lane;
  running?: Promise<void>;
  timer?: NodeJS.Timeout;
  /** Kicked since the lane last found its queue empty. */
  dirty: boolean;
}

type Step = { kind: 'next' } | { kind: 'empty' } | { kind: 'wait'; ms: number } | { kind: 'stop' };

/** The lock under which a subscription's delivery records change (dispatcher, redeliver, delete). */
export const subscriptionLockKey = (repo: string, id: string) => `webhook:${repo}:${id}`;

export class Dispatcher {
  private readonly lanes = new Map<string, LaneState>();
  private readonly inFlight: Semaphore;
  private readonly perSub = new Map<string, Semaphore>();
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(private readonly deps: DispatcherDeps) {
    this.inFlight = new Semaphore(deps.concurrency);
  }

  /** Look at a lane now, unless it is busy or waiting for a retry time (new entries queue behind). */
  kick(lane: Lane): void {
    if (this.stopped) return;
    const key = laneKey(lane);
    let state = this.lanes.get(key);
    if (!state) this.lanes.set(key, (state = { lane, dirty: false }));
    state.dirty = true;
    if (state.running || state.timer) return;
    const s = state;
    s.running = this.drain(s).finally(() => {
      s.running = undefined;
      if (s.timer || this.stopped) return;
      if (s.dirty) this.kick(s.lane);
      else this.lanes.delete(key);
    });
  }

  /** Stop taking work, abort attempts in flight (they are retried after a restart) and wait for lanes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    for (const s of this.lanes.values()) clearTimeout(s.timer);
    await Promise.all([...this.lanes.values()].map((s) => s.running));
    this.lanes.clear();
  }

  private async drain(state: LaneState): Promise<void> {
    while (!this.stopped) {
      state.dirty = false;
      const step = await this.step(state.lane).catch((err: unknown) => this.stepFailed(state.lane, err));
      if (step.kind === 'next') continue;
      if (step.kind === 'wait') this.schedule(state, step.ms);
      if (step.kind !== 'empty' || !state.dirty) return;
    }
  }

  private async step(lane: Lane): Promise<Step> {
    const { meta, subs } = this.deps;
    const head = await queueHead(meta, lane);
    const sub = subs.get(lane.repo, lane.id);
    if (!head || !sub) return { kind: 'empty' };
    const record = await getDelivery(meta, lane.repo, lane.id, head.seq);
    if (!record) {
      await meta.batch([{ type: 'del', key: head.queueKey }]);
      return { kind: 'next' };
    }
    const wait = (record.nextAttemptAt ? Date.parse(record.nextAttemptAt) : 0) - Date.now();
    if (wait > 0) return { kind: 'wait', ms: wait };
    const outcome = await this.attempt(sub, record);
    if (outcome === 'aborted') return { kind: 'stop' };
    await this.settle(lane, head, record, outcome);
    return { kind: 'next' };
  }

  /** A store error must not spin: log it and look at the lane again after one backoff base. */
  private stepFailed(lane: Lane, err: unknown): Step {
    if (this.stopped) return { kind: 'stop' };
    this.deps.log.warn({ webhook: lane.id, branch: lane.branch, err: (err as Error).message }, 'webhook lane failed; retrying');
    return { kind: 'wait', ms: this.deps.policy.baseMs };
  }

  private schedule(state: LaneState, ms: number): void {
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.kick(state.lane);
    }, ms);
    state.timer.unref();
  }

  private async attempt(sub: Subscription, record: DeliveryRecord): Promise<Outcome | 'aborted'> {
    let built;
    try {
      built = await this.deps.payloads.build(record);
    } catch (err) {
      return { ok: false, latencyMs: 0, error: `cannot build the payload: ${(err as Error).message}`, permanent: isPermanent(err) };
    }
    const target = this.deps.targetFor(sub);
    return this.permits(sub.id).run(() =>
      this.inFlight.run(async () => {
        if (this.stopped) return 'aborted' as const;
        const started = performance.now();
        const result = await target.deliver(built.payload, built.body, this.abort.signal);
        if (this.abort.signal.aborted) return 'aborted' as const;
        return { ...result, latencyMs: Math.round(performance.now() - started) };
      }),
    );
  }

  private permits(subId: string): Semaphore {
    let s = this.perSub.get(subId);
    if (!s) this.perSub.set(subId, (s = new Semaphore(this.deps.perSubscriptionConcurrency)));
    return s;
  }

  /** Record the attempt; a final outcome also removes the queue entry, in the same batch. */
  private async settle(lane: Lane, head: QueueHead, record: DeliveryRecord, outcome: Outcome): Promise<void> {
    const { meta, subs, locks, policy, log } = this.deps;
    await locks.run(subscriptionLockKey(lane.repo, lane.id), async () => {
      if (!subs.get(lane.repo, lane.id)) return; // deleted meanwhile: its records are gone, keep it so
      const updated = applyOutcome(record, outcome, Date.now(), policy);
      const ops = [putDeliveryOp(lane.id, updated)];
      if (isFinal(updated)) ops.push({ type: 'del', key: head.queueKey });
      // Not synced: a status lost to a power cut means one more attempt under the same delivery id.
      await meta.batch(ops, { sync: false });
      const fields = { webhook: lane.id, delivery: record.id, event: record.event, branch: record.branch, status: updated.status, attempts: updated.attempts };
      if (updated.status === 'delivered') log.info({ ...fields, latencyMs: outcome.latencyMs }, 'webhook delivered');
      else log.warn({ ...fields, error: updated.lastError, nextAttemptAt: updated.nextAttemptAt }, 'webhook attempt failed');
    });
  }
}

/** Payload errors that retrying cannot fix: the commit is gone or corrupt. */
function isPermanent(err: unknown): boolean {
  return err instanceof DatactlError && (err.status === 404 || err.code === 'E_CORRUPT_OBJECT');
}
