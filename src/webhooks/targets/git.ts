/**
 * GitPinTarget: instead of an HTTP call, bump a pin in a git repo in-process with the pin bumper
 * (hooks/pin-bumper). The bumper is injected (server/pin-bumper.ts builds it) so the engine does
 * not depend on hooks/; its interface is restated here as the contract this adapter relies on.
 */
import type { CommitEventPayload, EventPayload } from '../payload.js';
import { redactCredentials } from '../redact.js';
import type { GitPinSpec } from '../types.js';
import type { AttemptResult, WebhookTarget } from './target.js';

export interface PinBumpResult {
  status: 'pushed' | 'unchanged' | 'ignored-older' | 'ignored';
  codeCommit?: string;
  message: string;
}

export interface PinBumperLike {
  bump(target: GitPinSpec, event: CommitEventPayload): Promise<PinBumpResult>;
}

export class GitPinTarget implements WebhookTarget {
  constructor(
    private readonly bumper: () => Promise<PinBumperLike>,
    private readonly spec: GitPinSpec,
  ) {}

  async deliver(payload: EventPayload, _rawBody: string, signal: AbortSignal): Promise<AttemptResult> {
    if (payload.event !== 'commit') return { ok: true, result: `ignored: git targets take commit events, not ${payload.event}` };
    try {
      const bump = (await this.bumper()).bump({ ...this.spec }, payload);
      const r = await abortable(bump, signal);
      return { ok: true, result: redactCredentials(`${r.status}${r.codeCommit ? ` ${r.codeCommit}` : ''}: ${r.message}`) };
    } catch (err) {
      return { ok: false, error: redactCredentials(err instanceof Error ? err.message : String(err)) };
    }
  }
}

/** A bump cannot be cancelled; at shutdown stop waiting for it (the retry after restart is idempotent). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted at shutdown'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted at shutdown'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
