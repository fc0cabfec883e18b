/**
 * Credentials never reach a log line or an error message: a URL's user info (`//user:pass@`,
 * `//token@`) becomes `//***@`, wherever it appears in the text (git quotes URLs in its errors).
 */
import { DatactlError } from '../../src/errors.js';
import { redactCredentials } from '../../src/webhooks/redact.js';

/** Redact the user info of every URL in `text` (the server's webhooks use the same rule). */
export function redactUrl(text: string): string {
  return redactCredentials(text);
}

/** Redact every string inside a JSON-like value (log objects); other values pass unchanged. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return redactError(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
  return out;
}

/** A copy of an error with its message and stack redacted (a DatactlError stays one; codes kept). */
export function redactError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(redactUrl(String(err)));
  const copy =
    err instanceof DatactlError
      ? new DatactlError(err.code, redactUrl(err.message), redactDeep(err.details) as Record<string, unknown> | undefined)
      : new Error(redactUrl(err.message));
  copy.name = err.name;
  if (err.stack) copy.stack = redactUrl(err.stack);
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) (copy as { code?: unknown }).code = code;
  return copy;
}
