/** HttpTarget: POST the JSON body to a URL, signed with the subscription's secret. */
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, type EventPayload } from '../payload.js';
import { redactCredentials } from '../redact.js';
import { signBody } from '../signature.js';
import type { AttemptResult, WebhookTarget } from './target.js';

export interface HttpTargetOptions {
  url: string;
  secret: string | null;
  timeoutMs: number;
  userAgent: string;
}

export class HttpTarget implements WebhookTarget {
  constructor(private readonly opts: HttpTargetOptions) {}

  async deliver(payload: EventPayload, rawBody: string, signal: AbortSignal): Promise<AttemptResult> {
    const { url, authorization } = splitCredentials(this.opts.url);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': this.opts.userAgent,
      [EVENT_HEADER]: payload.event,
      [DELIVERY_HEADER]: payload.deliveryId,
    };
    if (this.opts.secret !== null) headers[SIGNATURE_HEADER] = signBody(this.opts.secret, rawBody);
    if (authorization) headers['authorization'] = authorization;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    try {
      // Redirects are not followed (as GitHub does): a 3xx is a failed attempt, visible in the log.
      const res = await fetch(url, { method: 'POST', headers, body: rawBody, redirect: 'manual', signal: AbortSignal.any([signal, timeout]) });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status };
      return { ok: false, statusCode: res.status, error: `receiver answered HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, error: describeFailure(err, timeout.aborted, this.opts.timeoutMs) };
    }
  }
}

/**
 * fetch refuses URLs with credentials, so `https://user:pass@host` becomes the bare URL plus a
 * Basic Authorization header, which is what the URL means.
 */
function splitCredentials(raw: string): { url: string; authorization?: string } {
  const url = new URL(raw);
  if (url.username === '' && url.password === '') return { url: raw };
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  return { url: url.toString(), authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
}

function describeFailure(err: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `timed out after ${timeoutMs} ms`;
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ABORT_ERR') return redactCredentials(`${(e as Error).message || code} (${code})`);
  }
  return redactCredentials(err instanceof Error ? err.message : String(err));
}
