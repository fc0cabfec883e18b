/** What one attempt does to a delivery record: delivered, retry later (failed), or dead. */
import { nextAttemptAt, type BackoffOptions } from './backoff.js';
import type { AttemptResult } from './targets/target.js';
import type { DeliveryRecord } from './types.js';

export interface Outcome extends AttemptResult {
  latencyMs: number;
  /** Retrying cannot help (the payload cannot be built): dead-letter at once. */
  permanent?: boolean;
}

export interface RetryPolicy extends BackoffOptions {
  retryPeriodMs: number;
}

export function applyOutcome(record: DeliveryRecord, outcome: Outcome, nowMs: number, policy: RetryPolicy): DeliveryRecord {
  const at = new Date(nowMs).toISOString();
  const next: DeliveryRecord = {
    ...record,
    attempts: record.attempts + 1,
    lastAttemptAt: at,
    lastLatencyMs: outcome.latencyMs,
    lastStatusCode: outcome.statusCode,
    lastError: outcome.ok ? undefined : outcome.error,
    lastResult: outcome.ok ? outcome.result : undefined,
    nextAttemptAt: undefined,
  };
  if (outcome.ok) return { ...next, status: 'delivered', deliveredAt: at };
  const retryAt = outcome.permanent ? null : nextAttemptAt(nowMs, Date.parse(record.enqueuedAt), next.attempts, policy.retryPeriodMs, policy);
  if (retryAt === null) return { ...next, status: 'dead' };
  return { ...next, status: 'failed', nextAttemptAt: new Date(retryAt).toISOString() };
}

/** Delivered and dead deliveries leave the queue; the others stay at the head of their lane. */
export const isFinal = (record: DeliveryRecord): boolean => record.status === 'delivered' || record.status === 'dead';
