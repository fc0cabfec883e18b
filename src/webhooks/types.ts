/** The records the webhooks module stores (storage shapes; API shapes live in server/views.ts). */
import type { BranchName, RepoName } from '../types.js';
import type { EventType } from './payload.js';

/** Where a git target writes a pin: `pinFile` in `url`@`branch`, under `key`. */
export interface GitPinSpec {
  url: string;
  branch: string;
  pinFile: string;
  key: string;
}

export type TargetSpec = { type: 'http'; url: string; secret: string | null } | { type: 'git'; git: GitPinSpec };

export interface Subscription {
  id: string;
  repo: RepoName;
  target: TargetSpec;
  /** Branch globs (`*` matches any run of name characters); an event matches if any glob does. */
  branches: string[];
  events: EventType[];
  /** Inactive subscriptions get no new events; already queued deliveries still go out. */
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead';

/**
 * One delivery: small on purpose (the payload is rebuilt from immutable commits at delivery
 * time), plus the outcome of the latest attempt.
 */
export interface DeliveryRecord {
  /** The delivery id (UUID): the `X-Datactl-Delivery` header, the same across retries. */
  id: string;
  /** Position in the subscription's delivery log (webhookSeq). */
  seq: string;
  event: EventType;
  repo: RepoName;
  branch: BranchName;
  /** Commit events: the commit. */
  commit?: string;
  /** Branch events: the branch head at the event (null for an empty branch). */
  head?: string | null;
  createdAt: string;
  status: DeliveryStatus;
  attempts: number;
  /** Start of the current retry period: creation, or the latest redelivery. */
  enqueuedAt: string;
  nextAttemptAt?: string;
  lastAttemptAt?: string;
  lastStatusCode?: number;
  lastError?: string;
  lastLatencyMs?: number;
  /** What the target reported on success (the git target's bump result). */
  lastResult?: string;
  deliveredAt?: string;
  redeliveries?: number;
}

/** A dispatcher lane: events of one subscription on one branch, delivered strictly in order. */
export interface Lane {
  repo: RepoName;
  id: string;
  branch: BranchName;
}

export const laneKey = (lane: Lane): string => `${lane.repo}:${lane.id}:${lane.branch}`;

export interface WebhookSettings {
  /** How long a delivery is retried before it is dead-lettered (default 24 h). */
  retryPeriodMs?: number;
  /** Backoff: full jitter over min(cap, base * 2^(attempt-1)) (defaults 1 s and 10 min). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** Attempts in flight across all subscriptions (default 8) and per subscription (default 2). */
  concurrency?: number;
  perSubscriptionConcurrency?: number;
  userAgent?: string;
}

export const DEFAULT_WEBHOOK_SETTINGS: Required<Omit<WebhookSettings, 'userAgent'>> = {
  retryPeriodMs: 24 * 60 * 60 * 1000,
  backoffBaseMs: 1000,
  backoffCapMs: 10 * 60 * 1000,
  timeoutMs: 10_000,
  concurrency: 8,
  perSubscriptionConcurrency: 2,
};
