/**
 * A real datactl server for tests: LevelDB and the object store in a fresh temp dir, fastify
 * listening on an ephemeral loopback port. Tests talk to it over real HTTP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import type { ChunkerParams } from '../../src/chunking/index.js';
import { openEngine, type Engine } from '../../src/engine.js';
import type { WebhookSettings } from '../../src/webhooks/types.js';

export interface TestServer {
  url: string;
  dataDir: string;
  engine: Engine;
  app: FastifyInstance;
  close(): Promise<void>;
}

export interface TestServerOptions {
  store?: string;
  s3Endpoint?: string;
  chunker?: ChunkerParams;
  packTargetBytes?: number;
  dataDir?: string;
  webhooks?: WebhookSettings;
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'datactl-test-')));
  const engine = await openEngine({ dataDir, store: opts.store, s3Endpoint: opts.s3Endpoint, chunker: opts.chunker, packTargetBytes: opts.packTargetBytes, webhooks: opts.webhooks });
  await engine.check();
  const app = await buildApp({ engine });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    engine,
    app,
    async close() {
      await app.close();
      await engine.close();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** JSON request helper: returns status and parsed body (or text when not JSON). */
export async function api(base: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    if (body instanceof Uint8Array || typeof body === 'string') init.body = body as NonNullable<RequestInit['body']>;
    else {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
  }
  const res = await fetch(base + url, init);
  const text = await res.text();
  let json: any;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}
