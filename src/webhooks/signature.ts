/** `X-Datactl-Signature-256`: GitHub's convention, `sha256=` + hex HMAC-SHA256 of the raw body. */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers: constant-time check of a signature header against the raw body. */
export function verifySignature(secret: string, body: string | Uint8Array, header: string | undefined | null): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
