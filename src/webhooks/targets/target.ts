/** The webhook target seam: where a delivery goes. One adapter per kind (http, git). */
import type { EventPayload } from '../payload.js';

export interface AttemptResult {
  /** True when the target accepted the event (HTTP 2xx, pin bumped or deliberately ignored). */
  ok: boolean;
  statusCode?: number;
  /** Why the attempt failed; never contains credentials. */
  error?: string;
  /** What a successful target reported (the git target's bump outcome). */
  result?: string;
}

export interface WebhookTarget {
  /**
   * Deliver one event. `rawBody` is JSON.stringify(payload), the exact bytes to send and sign.
   * Never throws: failures (timeouts, refused connections, non-2xx, target errors) come back as
   * `ok: false`, and the dispatcher retries them. `signal` aborts an attempt at shutdown.
   */
  deliver(payload: EventPayload, rawBody: string, signal: AbortSignal): Promise<AttemptResult>;
}
