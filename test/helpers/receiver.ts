/**
 * A real webhook receiver for tests: a node:http server on a loopback port that records every
 * request (headers, raw body, arrival time) and answers as the test says: a status code, never
 * (hang until closed), or by dropping the connection. It can go down (refusing connections) and
 * come back on the same port.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  /** performance.now() when the body was complete. */
  at: number;
  /** What the receiver answered (a status, 'hang' or 'drop'). */
  answer: Answer;
}

export type Answer = number | 'hang' | 'drop';
/** Decides the answer from the request and how many requests came before it (0-based). */
export type Behavior = (req: Received, index: number) => Answer;

export class Receiver {
  readonly requests: Received[] = [];
  behavior: Behavior;
  private server: Server | undefined;
  private port = 0;
  private readonly hanging = new Set<ServerResponse>();

  private constructor(behavior: Behavior) {
    this.behavior = behavior;
  }

  static async start(behavior: Behavior = () => 200): Promise<Receiver> {
    const r = new Receiver(behavior);
    await r.up();
    return r;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Listen (again, on the same port after down()). */
  async up(): Promise<void> {
    const server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (b: Buffer) => parts.push(b));
      req.on('end', () => this.answer(req.headers, Buffer.concat(parts).toString('utf8'), res));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stop listening and cut every connection: new deliveries get "connection refused". */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Requests that got a 2xx answer. */
  accepted(): Received[] {
    return this.requests.filter((r) => typeof r.answer === 'number' && r.answer >= 200 && r.answer < 300);
  }

  private answer(headers: IncomingHttpHeaders, body: string, res: ServerResponse): void {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const received: Received = { headers, body, json, at: performance.now(), answer: 200 };
    received.answer = this.behavior(received, this.requests.length);
    this.requests.push(received);
    if (received.answer === 'hang') this.hanging.add(res);
    else if (received.answer === 'drop') res.destroy();
    else res.writeHead(received.answer, { 'content-type': 'text/plain' }).end('ok');
  }
}
