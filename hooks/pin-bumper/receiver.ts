/**
 * The standalone pin-bumper receiver: a small node:http server that takes datactl webhook
 * deliveries and bumps pins in code repos (`datactl hook serve --config FILE`).
 *
 * `POST /` (or `/hook`): raw body (at most 1 MiB, else 413) -> signature (401 when missing or
 * wrong, nothing touched) -> JSON payload (400) -> replay check (200 `duplicate`) -> mappings
 * (202 `ignored` for other events or no match) -> one bump per matching mapping -> 200 with the
 * results, only after every push succeeded; 500 on failure, so the sender retries. The delivery
 * id is then remembered in `<workDir>/deliveries.log`. `GET /healthz` answers `{"ok": true}`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type DestinationStream, type Logger } from 'pino';
import { DatactlError } from '../../src/errors.js';
import { isHex64 } from '../../src/types.js';
import type { CommitEventPayload } from '../../src/webhooks/payload.js';
import { DELIVERY_HEADER, SIGNATURE_HEADER } from '../../src/webhooks/payload.js';
import { verifySignature } from '../../src/webhooks/signature.js';
import { ancestry } from '../../cli/ancestry.js';
import { DatactlClient } from '../../cli/client.js';
import { PinBumper, type BumpResult, type PinTarget } from './bumper.js';
import { matchMappings, type ReceiverConfig } from './config.js';
import { DELIVERY_ID_RE, DeliveryLog } from './deliveries.js';
import { redactDeep, redactError, redactUrl } from './redact.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface ReceiverOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  logLevel?: string;
  /** Where pino writes (default stdout); tests pass a stream to read the log lines. */
  logStream?: DestinationStream;
}

export interface RunningReceiver {
  url: string;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
}

export interface TargetResult extends BumpResult {
  target: PinTarget;
}

/** Start the receiver; resolves once it listens. */
export async function startReceiver(config: ReceiverConfig, options: ReceiverOptions = {}): Promise<RunningReceiver> {
  const log = receiverLogger(options);
  const deliveries = await DeliveryLog.open(config.workDir);
  const bumper = new PinBumper({ workDir: config.workDir, logger: log.child({ component: 'bumper' }), ...ancestryCheck(config, log) });
  const handler = new HookHandler(config, bumper, deliveries, log);
  const server = createServer((req, res) => void serve(handler, req, res, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  log.info({ url, workDir: config.workDir, mappings: config.mappings.length, ancestry: Boolean(config.server) }, 'pin bumper receiver listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** pino, with every string of every log call redacted (URLs carry credentials). */
function receiverLogger(options: ReceiverOptions): Logger {
  const opts = {
    level: options.logLevel ?? 'info',
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(this, args.map((a) => redactDeep(a)));
      },
    },
  };
  return options.logStream ? pino(opts, options.logStream) : pino(opts);
}

/** Ancestry through the configured datactl server; without one, pins always move forward. */
function ancestryCheck(config: ReceiverConfig, log: Logger): { isAncestor?: (repo: string, a: string, d: string) => Promise<boolean> } {
  if (!config.server) {
    log.warn('no "server" configured: pins cannot be checked for moving backward and follow every event');
    return {};
  }
  const client = new DatactlClient({ baseUrl: config.server });
  return {
    async isAncestor(repo, ancestor, descendant) {
      try {
        return (await ancestry(client, repo, ancestor, descendant)).isAncestor;
      } catch (err) {
        // A pinned commit this server does not know cannot be proven newer: move the pin.
        if (err instanceof DatactlError && ['E_COMMIT_NOT_FOUND', 'E_REPO_NOT_FOUND', 'E_BRANCH_NOT_FOUND'].includes(err.code)) {
          log.warn({ repo, ancestor, descendant, err: err.message }, 'ancestry unknown; treating as not older');
          return false;
        }
        throw err;
      }
    },
  };
}

async function serve(handler: HookHandler, req: IncomingMessage, res: ServerResponse, log: Logger): Promise<void> {
  let reply: Reply;
  try {
    reply = await handler.route(req);
  } catch (err) {
    const safe = redactError(err);
    log.error({ err: safe.message }, 'delivery failed');
    reply = error(500, 'E_BUMP_FAILED', safe.message);
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  // A body we refused to read (too large) must not keep the connection busy.
  if (!req.complete) res.on('finish', () => req.destroy());
}

function error(status: number, code: string, message: string): Reply {
  return { status, body: { error: { code, message: redactUrl(message) } } };
}

class HookHandler {
  private readonly inflight = new Map<string, Promise<Reply>>();

  constructor(
    private readonly config: ReceiverConfig,
    private readonly bumper: PinBumper,
    private readonly deliveries: DeliveryLog,
    private readonly log: Logger,
  ) {}

  async route(req: IncomingMessage): Promise<Reply> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return req.method === 'GET' ? { status: 200, body: { ok: true } } : error(405, 'E_METHOD', 'use GET');
    if (path !== '/' && path !== '/hook') return error(404, 'E_NOT_FOUND', 'POST deliveries to / or /hook');
    if (req.method !== 'POST') return error(405, 'E_METHOD', 'use POST');
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === 'too-large') return error(413, 'E_PAYLOAD_TOO_LARGE', `the body exceeds ${MAX_BODY_BYTES} bytes`);
    if (!verifySignature(this.config.secret, body, header(req, SIGNATURE_HEADER))) {
      this.log.warn({ remote: req.socket.remoteAddress }, 'rejected a delivery with a missing or wrong signature');
      return error(401, 'E_BAD_SIGNATURE', `missing or wrong ${SIGNATURE_HEADER}`);
    }
    return this.delivery(req, body);
  }

  private async delivery(req: IncomingMessage, body: Buffer): Promise<Reply> {
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return error(400, 'E_BAD_REQUEST', 'the body is not valid JSON');
    }
    const id = payload?.['deliveryId'];
    if (typeof id !== 'string' || !DELIVERY_ID_RE.test(id)) return error(400, 'E_BAD_REQUEST', 'deliveryId is missing or malformed');
    const headerId = header(req, DELIVERY_HEADER);
    if (headerId !== undefined && headerId !== id) return error(400, 'E_BAD_REQUEST', `${DELIVERY_HEADER} does not match the signed deliveryId`);
    if (payload['event'] !== 'commit') return { status: 202, body: { status: 'ignored', deliveryId: id, reason: `event ${String(payload['event'])} is not handled` } };
    const invalid = invalidCommitEvent(payload);
    if (invalid) return error(400, 'E_BAD_REQUEST', invalid);
    if (this.deliveries.has(id)) return { status: 200, body: { status: 'duplicate', deliveryId: id } };
    // The same delivery arriving twice at once is applied once; both get the answer.
    let pending = this.inflight.get(id);
    if (!pending) {
      pending = this.apply(payload as unknown as CommitEventPayload).finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    return pending;
  }

  private async apply(event: CommitEventPayload): Promise<Reply> {
    const mappings = matchMappings(this.config, event.repo, event.branch);
    if (mappings.length === 0) {
      return { status: 202, body: { status: 'ignored', deliveryId: event.deliveryId, reason: `no mapping for ${event.repo}@${event.branch}` } };
    }
    const results: TargetResult[] = [];
    for (const { target } of mappings) {
      const result = await this.bumper.bump(target, event);
      results.push({ ...result, target: { ...target, url: redactUrl(target.url) } });
    }
    await this.deliveries.add(event.deliveryId);
    this.log.info({ deliveryId: event.deliveryId, repo: event.repo, commit: event.pin.commit, results: results.map((r) => r.status) }, 'delivery applied');
    return { status: 200, body: { status: overall(results), deliveryId: event.deliveryId, results } };
  }
}

/** One word for the delivery: `pushed` if any target moved, else the first target's status. */
function overall(results: TargetResult[]): BumpResult['status'] {
  return results.some((r) => r.status === 'pushed') ? 'pushed' : results[0]!.status;
}

/** Why a commit event cannot be applied, or undefined when it is well-formed. */
function invalidCommitEvent(p: Record<string, unknown>): string | undefined {
  if (typeof p['repo'] !== 'string' || typeof p['branch'] !== 'string') return 'a commit event needs "repo" and "branch" strings';
  const pin = p['pin'] as Record<string, unknown> | undefined;
  if (!pin || typeof pin !== 'object') return 'a commit event needs a "pin" object';
  if (typeof pin['repo'] !== 'string' || typeof pin['branch'] !== 'string') return 'pin.repo and pin.branch must be strings';
  if (!isHex64(pin['commit'])) return 'pin.commit must be a 64-hex commit id';
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The raw body, or 'too-large' as soon as it passes `limit` (reading stops there). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (part: Buffer) => {
      size += part.length;
      if (size <= limit) return void parts.push(part);
      req.off('data', onData).pause();
      resolve('too-large');
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(parts)));
    req.once('error', reject);
  });
}
