/**
 * The HTTP transport under DatactlClient: URL building, retries for idempotent requests, and the
 * translation of error responses and network failures into DatactlError (in one place each).
 */
import { DatactlError, fail, isErrorCode, type ErrorCode } from '../src/errors.js';
import { redactCredentials } from '../src/webhooks/redact.js';
import { API_HEADER } from '../src/wire/api-header.js';
import { nodeFetch } from './node-fetch.js';

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Already URL-encoded path, e.g. `/v1/repos/images`. */
  path: string;
  query?: Query;
  json?: unknown;
  /** Raw body. Buffers can be re-sent on retry; streams cannot (never retried). */
  body?: Uint8Array | readonly Uint8Array[] | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  headers?: Record<string, string>;
  /** Safe to repeat: retried on connection errors and 503. */
  idempotent?: boolean;
  /** Statuses that are not errors beyond 2xx (e.g. 304). */
  accept?: number[];
}

export interface TransportOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  /** Total attempts for idempotent requests (default 3). */
  attempts?: number;
  /** First retry delay in ms; later ones grow 4x (default 100). */
  retryDelayMs?: number;
}

const NETWORK_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
};

/**
 * Why a fetch failed at the network level (`TypeError: fetch failed` wraps the cause), as a short
 * phrase, or undefined when the error is not a network failure.
 */
function networkFailure(err: unknown): { code: string; why: string } | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code in NETWORK_CAUSES) return { code, why: NETWORK_CAUSES[code]! };
  }
  if (err instanceof TypeError && /^(fetch failed|terminated)$/.test(err.message)) {
    const cause = (err as { cause?: { message?: unknown } }).cause?.message;
    return { code: 'NETWORK', why: typeof cause === 'string' && cause ? cause : err.message };
  }
  return undefined;
}

/**
 * The one mapping of network failures to DatactlError. Unreachable servers keep code E_INTERNAL
 * (there is no catalog code for "the server itself is down") and carry `details.reason:
 * 'unreachable'`, which the CLI turns into its own exit code. Anything else passes through.
 */
export function translateNetworkError(err: unknown, baseUrl: string, phase: 'connect' | 'body' = 'connect'): unknown {
  if (err instanceof DatactlError) return err;
  const failure = networkFailure(err);
  if (!failure) return err;
  const shown = redactCredentials(baseUrl); // a URL may carry user:password; messages never do
  const message =
    phase === 'connect'
      ? `cannot reach datactl server at ${shown} (${failure.why})`
      : `lost the connection to datactl server at ${shown} mid-response (${failure.why})`;
  return new DatactlError('E_INTERNAL', message, { reason: 'unreachable', phase, url: shown, cause: failure.code });
}

/**
 * `res` if a datactl server sent it; otherwise the same failure as an unreachable server (exit 6):
 * nothing at that URL speaks datactl, and the answer's body is not read as one.
 */
function checkedDatactl(res: Response, baseUrl: string, spec: RequestSpec): Response {
  if (res.headers.get(API_HEADER) !== null) return res;
  void res.body?.cancel().catch(() => undefined);
  const shown = redactCredentials(baseUrl);
  throw fail('E_INTERNAL', `no datactl server at ${shown}: something there answered ${spec.method} ${spec.path} with HTTP ${res.status}, without datactl's ${API_HEADER} header`, {
    reason: 'unreachable', url: shown, status: res.status,
  });
}

/** True for errors produced by translateNetworkError (the server could not be reached) or by checkedDatactl (nothing there speaks datactl). */
export function isUnreachable(err: unknown): boolean {
  return err instanceof DatactlError && err.details?.['reason'] === 'unreachable';
}

/** True when the connection was lost after the answer's headers, in the middle of its body. */
export function isCutMidBody(err: unknown): boolean {
  return isUnreachable(err) && (err as DatactlError).details?.['phase'] === 'body';
}

const STATUS_FALLBACK: Record<number, ErrorCode> = {
  400: 'E_BAD_REQUEST',
  404: 'E_NOT_FOUND',
  409: 'E_CONFLICT',
  413: 'E_PAYLOAD_TOO_LARGE',
  416: 'E_RANGE_NOT_SATISFIABLE',
  503: 'E_STORE_UNAVAILABLE',
};

/** Turn an error response (`{"error": {code, message, details}}`) into a DatactlError. */
export async function errorFromResponse(res: Response, what: string): Promise<DatactlError> {
  const text = await res.text().catch(() => '');
  let body: { error?: { code?: unknown; message?: unknown; details?: unknown } } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: a proxy or a crash page; fall back to the status
  }
  const e = body.error ?? {};
  const code: ErrorCode = isErrorCode(e.code) ? e.code : (STATUS_FALLBACK[res.status] ?? 'E_INTERNAL');
  // Every datactl error carries a code: an answer without one came from something else (a proxy,
  // another service on that port), and a bare "HTTP 404" would read as "not found".
  const foreign = isErrorCode(e.code) ? '' : ' (no datactl error in the answer: is this URL a datactl server, reached directly?)';
  const message = typeof e.message === 'string' && e.message ? e.message : `server answered HTTP ${res.status} to ${what}${foreign}`;
  const details = e.details && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : undefined;
  return new DatactlError(code, message, { ...details, status: res.status });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A server URL the client can talk to, or E_BAD_REQUEST saying what one looks like (not "Invalid URL" later). */
function checkServerUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    const shown = redactCredentials(value);
    throw fail('E_BAD_REQUEST', `invalid server URL ${JSON.stringify(shown)}: expected http://HOST:PORT or https://HOST (--server or DATACTL_URL)`, { server: shown });
  }
  return value;
}

export class Transport {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  constructor(options: TransportOptions) {
    this.baseUrl = checkServerUrl(options.baseUrl).replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? (nodeFetch as unknown as typeof fetch);
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.retryDelayMs = options.retryDelayMs ?? 100;
  }

  url(path: string, query?: Query): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null) params.set(k, String(v));
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Send a request; a non-2xx (and not accepted) answer throws its DatactlError. */
  async send(spec: RequestSpec): Promise<Response> {
    const retryable = spec.idempotent === true && !isStreamBody(spec.body);
    const attempts = retryable ? this.attempts : 1;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= attempts;
      let res: Response;
      try {
        res = await this.fetchImpl(this.url(spec.path, spec.query), this.init(spec));
      } catch (err) {
        const translated = translateNetworkError(err, this.baseUrl);
        if (last || !isUnreachable(translated)) throw translated;
        await sleep(this.retryDelayMs * 4 ** (attempt - 1));
        continue;
      }
      if (res.ok || spec.accept?.includes(res.status)) return checkedDatactl(res, this.baseUrl, spec);
      if (res.status === 503 && !last) {
        await res.body?.cancel().catch(() => undefined);
        await sleep(this.retryDelayMs * 4 ** (attempt - 1));
        continue;
      }
      throw await errorFromResponse(res, `${spec.method} ${spec.path}`);
    }
  }

  /** Send and parse a JSON answer (`undefined` for 204). */
  async json<T>(spec: RequestSpec): Promise<T> {
    const res = await this.send(spec);
    if (res.status === 204) {
      // Consume the (empty) body: an unread response keeps its keep-alive socket referenced, and
      // the CLI process would then wait for the server's keep-alive timeout before exiting.
      await res.arrayBuffer().catch(() => undefined);
      return undefined as T;
    }
    try {
      return (await res.json()) as T;
    } catch (err) {
      const net = translateNetworkError(err, this.baseUrl, 'body');
      if (net !== err) throw net;
      throw fail('E_INTERNAL', `server sent an answer to ${spec.method} ${spec.path} that is not valid JSON`);
    }
  }

  private init(spec: RequestSpec): RequestInit {
    const headers: Record<string, string> = { ...spec.headers };
    let body: RequestInit['body'];
    if (spec.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.json);
    } else if (spec.body !== undefined) {
      headers['content-type'] ??= 'application/octet-stream';
      body = spec.body as RequestInit['body'];
    }
    const init: RequestInit & { duplex?: 'half' } = { method: spec.method, headers, body };
    if (isStreamBody(spec.body)) init.duplex = 'half';
    return init;
  }
}

function isStreamBody(body: RequestSpec['body']): boolean {
  return body !== undefined && !(body instanceof Uint8Array) && !Array.isArray(body);
}

/** Iterate a response body, translating a connection lost mid-stream into a DatactlError. */
export async function* readBody(body: ReadableStream<Uint8Array> | null, baseUrl: string): AsyncGenerator<Uint8Array> {
  if (!body) return;
  try {
    for await (const part of body as unknown as AsyncIterable<Uint8Array>) yield part;
  } catch (err) {
    throw translateNetworkError(err, baseUrl, 'body');
  }
}
