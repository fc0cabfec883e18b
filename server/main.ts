/** Opens the engine, builds the app and listens: what `datactl serve` and `npm start` run. */
import { openEngine } from '../src/engine.js';
import type { WebhookSettings } from '../src/webhooks/types.js';
import { buildApp } from './app.js';

export interface ServerOptions {
  host: string;
  port: number;
  dataDir: string;
  store?: string;
  s3Endpoint?: string;
  s3Region?: string;
  /** Local stores: packs with O_DIRECT where the filesystem takes it (default true). */
  directIo?: boolean;
  logLevel?: string;
  webhooks?: WebhookSettings;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const engine = await openEngine({
    dataDir: opts.dataDir,
    store: opts.store,
    s3Endpoint: opts.s3Endpoint,
    s3Region: opts.s3Region,
    directIo: opts.directIo,
    webhooks: opts.webhooks,
  });
  const app = await buildApp({ engine, logger: { level: opts.logLevel ?? 'info' }, idleGc: {} });
  try {
    await engine.check();
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await app.close();
    await engine.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  app.log.info({ dataDir: opts.dataDir, store: engine.store.description }, 'datactl server ready');
  return {
    url: `http://${host}:${port}`,
    async close() {
      await app.close();
      await engine.close();
    },
  };
}
