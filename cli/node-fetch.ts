/**
 * The subset of `fetch` the transport uses, over node:http with a keep-alive agent. Two reasons
 * over the global fetch (undici): request bodies can be a list of parts written as they are
 * (undici copies every Buffer body, twice, which cost ~15% of a large put's CPU), and the CLI
 * starts ~130 ms faster without loading undici.
 */
import http from 'node:http';
import https from 'node:https';

export type NodeBody = string | Uint8Array | readonly Uint8Array[] | AsyncIterable<Uint8Array>;

export interface NodeRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: NodeBody | null;
}

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 32 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

/** Response headers with the one accessor callers use. */
class ResponseHeaders {
  constructor(private readonly raw: http.IncomingHttpHeaders) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : String(v);
  }
}

/** A response body: async-iterable once; cancel() drops the connection's remaining bytes. */
class ResponseBody implements AsyncIterable<Uint8Array> {
  constructor(private readonly message: http.IncomingMessage) {}
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.message[Symbol.asyncIterator]();
  }
  async cancel(): Promise<void> {
    this.message.destroy();
  }
}

export class NodeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly headers: ResponseHeaders;
  readonly body: ResponseBody;

  constructor(message: http.IncomingMessage) {
    this.status = message.statusCode ?? 0;
    this.statusText = message.statusMessage ?? '';
    this.ok = this.status >= 200 && this.status < 300;
    this.headers = new ResponseHeaders(message.headers);
    this.body = new ResponseBody(message);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const parts: Buffer[] = [];
    for await (const part of this.body) parts.push(part as Buffer);
    const all = Buffer.concat(parts);
    return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return Buffer.from(await this.arrayBuffer()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}

export function nodeFetch(url: string, init: NodeRequestInit = {}): Promise<NodeResponse> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  const agent = agents[target.protocol as keyof typeof agents];
  const headers = { ...init.headers };
  const body = init.body ?? undefined;
  const length = fixedLength(body);
  if (length !== undefined) headers['content-length'] = String(length);
  return new Promise((resolve, reject) => {
    const req = transport.request(target, { method: init.method ?? 'GET', headers, agent }, (res) => resolve(new NodeResponse(res)));
    req.on('error', reject);
    writeBody(req, body).catch((err) => req.destroy(err as Error));
  });
}

function fixedLength(body: NodeBody | undefined): number | undefined {
  if (body === undefined) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  if (Array.isArray(body)) return (body as readonly Uint8Array[]).reduce((n, p) => n + p.byteLength, 0);
  return undefined;
}

async function writeBody(req: http.ClientRequest, body: NodeBody | undefined): Promise<void> {
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) {
    req.end(body);
    return;
  }
  if (Array.isArray(body)) {
    req.cork();
    for (const part of body as readonly Uint8Array[]) req.write(part);
    req.uncork();
    req.end();
    return;
  }
  for await (const part of body as AsyncIterable<Uint8Array>) {
    if (!req.write(part)) await new Promise<void>((resolve) => req.once('drain', resolve));
  }
  req.end();
}
