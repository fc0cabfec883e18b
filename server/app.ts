/**
 * The app factory: builds a fastify instance around an engine and never listens, so tests can use
 * `inject()` or `listen({ port: 0 })` and `main.ts` decides where to bind.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Engine } from '../src/engine.js';
import { API_HEADER, API_VERSION } from '../src/wire/api-header.js';
import { registerErrorHandling } from './errors.js';
import { collectGarbageWhenIdle, type IdleGcOptions } from './idle-gc.js';
import { chunkRoutes } from './routes/chunks.js';
import { commitRoutes } from './routes/commits.js';
import { fileRoutes } from './routes/files.js';
import { parquetRoutes } from './routes/parquet.js';
import { lazyPinBumper } from './pin-bumper.js';
import { healthRoutes } from './routes/health.js';
import { repoRoutes } from './routes/repos.js';
import { webhookRoutes } from './routes/webhooks.js';

export interface BuildAppOptions {
  engine: Engine;
  logger?: FastifyServerOptions['logger'];
  /** Deliver webhooks from this app (default true); they stop when the app closes. */
  deliverWebhooks?: boolean;
  /** Collect garbage once idle after a burst of work (idle-gc.ts); off unless given (the server turns it on). */
  idleGc?: IdleGcOptions;
}

/** Default JSON body limit; routes that need more say so (commit bodies, hash lists). */
export const JSON_BODY_LIMIT = 1024 * 1024;

export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: JSON_BODY_LIMIT,
    // Large uploads and downloads may legitimately take minutes.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    // Shutdown must not wait for a client that stopped sending mid-upload.
    forceCloseConnections: true,
  });
  registerErrorHandling(app);
  // Set as each request starts, so every answer of a route or of the error and not-found handlers
  // has it, hijacked streams (sendPieces) included. Not the few fastify writes itself (a 503 while
  // closing, a malformed request line): none is a 2xx, which is all the client checks.
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header(API_HEADER, API_VERSION);
    done();
  });
  if (opts.idleGc) {
    collectGarbageWhenIdle(app, {
      dropSpareBuffers: () => opts.engine.dropSpareBuffers(),
      release: () => opts.engine.ctx.meta.releaseMemory(),
      ...opts.idleGc,
    });
  }
  opts.engine.ctx.pending.onError = (err, repo) =>
    app.log.error({ err, repo }, 'an answered chunk upload failed to reach the disk; its chunks are not present and the commit will ask for them again');
  healthRoutes(app, opts.engine);
  repoRoutes(app, opts.engine.ctx);
  commitRoutes(app, opts.engine.ctx);
  fileRoutes(app, opts.engine.ctx);
  chunkRoutes(app, opts.engine.ctx);
  parquetRoutes(app, opts.engine.ctx);
  webhookRoutes(app, opts.engine.webhooks);
  if (opts.deliverWebhooks !== false) startWebhookDelivery(app, opts.engine);
  await app.ready();
  return app;
}

function startWebhookDelivery(app: FastifyInstance, engine: Engine): void {
  const log = app.log.child({ component: 'webhooks' });
  engine.webhooks.startDelivery({ log, pinBumper: lazyPinBumper(engine, log) });
  app.addHook('onClose', async () => engine.webhooks.stopDelivery());
}
