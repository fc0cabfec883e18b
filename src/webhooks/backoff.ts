/**
 * Retry delays: exponential backoff with full jitter (a uniformly random delay in
 * [0, min(cap, base * 2^(attempt-1)))), so receivers coming back from an outage are not hit by
 * every queued delivery at the same instant.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  random?: () => number;
}

/** The delay before the next attempt, after `attempts` failed ones (attempts >= 1). */
export function backoffDelay(attempts: number, opts: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 52); // 2^52 ms is already far past any cap
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** exponent);
  return Math.floor((opts.random ?? Math.random)() * ceiling);
}

/**
 * When to try next, or null when the retry period is over (dead-letter). The last attempt is
 * placed at the deadline rather than skipped, so the whole period is used.
 */
export function nextAttemptAt(nowMs: number, enqueuedAtMs: number, attempts: number, retryPeriodMs: number, opts: BackoffOptions): number | null {
  const deadline = enqueuedAtMs + retryPeriodMs;
  if (nowMs >= deadline) return null;
  return Math.min(nowMs + backoffDelay(attempts, opts), deadline);
}
