/**
 * `datactl serve`: run the server in this process. The server (fastify, LevelDB, S3 SDK) is
 * imported only here, inside the action, so every other command starts fast.
 */
import type { Command } from 'commander';
import v8 from 'node:v8';
import { fail } from '../../src/errors.js';
import { parseDuration } from '../../src/util/duration.js';
import type { WebhookSettings } from '../../src/webhooks/types.js';

interface ServeOptions {
  host: string;
  port: string;
  dataDir: string;
  store?: string;
  s3Endpoint?: string;
  s3Region?: string;
  directIo: boolean;
  logLevel: string;
  webhookRetryPeriod: string;
  webhookBackoffBaseMs: string;
  webhookBackoffCapMs: string;
  webhookTimeoutMs: string;
}

export function registerServe(program: Command, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('serve')
    .description('run the datactl server')
    .option('--host <host>', 'listen address (env DATACTL_HOST)', env['DATACTL_HOST'] || '127.0.0.1')
    .option('--port <port>', 'listen port, 0 for any (env DATACTL_PORT)', env['DATACTL_PORT'] || '8080')
    .option('--data-dir <dir>', 'metadata and local objects (env DATACTL_DATA_DIR)', env['DATACTL_DATA_DIR'] || './.datactl-data')
    .option('--store <url>', 'object store: file://DIR or s3://BUCKET/PREFIX (env DATACTL_STORE; default: inside --data-dir)', env['DATACTL_STORE'] || undefined)
    .option('--s3-endpoint <url>', 'S3-compatible endpoint (env DATACTL_S3_ENDPOINT, AWS_ENDPOINT_URL)', env['DATACTL_S3_ENDPOINT'] || env['AWS_ENDPOINT_URL'] || undefined)
    .option('--s3-region <region>', 'S3 region (env DATACTL_S3_REGION, AWS_REGION)', env['DATACTL_S3_REGION'] || env['AWS_REGION'] || undefined)
    .option('--no-direct-io', 'write local packs through the page cache, not with O_DIRECT (env DATACTL_DIRECT_IO=0)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env DATACTL_LOG_LEVEL)', env['DATACTL_LOG_LEVEL'] || 'info')
    .option('--webhook-retry-period <duration>', 'retry failed webhook deliveries this long, then dead-letter (env DATACTL_WEBHOOK_RETRY_PERIOD)', env['DATACTL_WEBHOOK_RETRY_PERIOD'] || '24h')
    .option('--webhook-backoff-base-ms <ms>', 'first retry delay ceiling; doubles per attempt, full jitter (env DATACTL_WEBHOOK_BACKOFF_BASE_MS)', env['DATACTL_WEBHOOK_BACKOFF_BASE_MS'] || '1000')
    .option('--webhook-backoff-cap-ms <ms>', 'retry delay ceiling cap (env DATACTL_WEBHOOK_BACKOFF_CAP_MS)', env['DATACTL_WEBHOOK_BACKOFF_CAP_MS'] || '600000')
    .option('--webhook-timeout-ms <ms>', 'per-attempt timeout of a webhook delivery (env DATACTL_WEBHOOK_TIMEOUT_MS)', env['DATACTL_WEBHOOK_TIMEOUT_MS'] || '10000')
    .action(async (opts: ServeOptions) => {
      atomicFullCollections(env);
      const port = parsePort(opts.port);
      const webhooks = webhookSettings(opts);
      const { startServer } = await import('../../server/main.js');
      const server = await startServer({
        host: opts.host,
        port,
        dataDir: opts.dataDir,
        logLevel: opts.logLevel,
        webhooks,
        ...(opts.store ? { store: opts.store } : {}),
        ...(opts.s3Endpoint ? { s3Endpoint: opts.s3Endpoint } : {}),
        ...(opts.s3Region ? { s3Region: opts.s3Region } : {}),
        directIo: opts.directIo && env['DATACTL_DIRECT_IO'] !== '0',
      });
      process.stderr.write(`datactl listening on ${server.url}\n`);
      await untilSignal();
      await server.close();
    });
}

/**
 * Turn off V8's incremental marking in the server process (DATACTL_INCREMENTAL_MARKING=1, or
 * `node --incremental-marking`, keeps it: with a heap of several hundred MB, one pause per full
 * collection may matter more than the CPU).
 *
 * An upload streams its bytes through Buffers outside the heap while the heap itself stays small
 * (~15 MB), and in 9 of 63 1 GB puts (four uploads in flight) V8 then fell into starting a full
 * marking every 60-100 ms (30-35 full collections instead of 2-3), each started by the
 * allocation-limit heuristics with two thirds of the limit still free: server user CPU ~1.05 ->
 * 1.4-1.8 s, the put 2.2-2.4 -> 2.5-2.9 s. Without it a full collection runs only when the old
 * generation reaches its limit, in one pause (a few ms at these heap sizes): 32 of 32 such puts
 * stayed at 0.98-1.18 s of server CPU (10 with the command-line flag, 22 set this way), and a
 * 100k-file put's time and peak were unchanged (three pairs: 3.54-4.01 s vs 3.44-3.91, 203-219
 * MiB vs 211-224).
 */
function atomicFullCollections(env: NodeJS.ProcessEnv): void {
  if (env['DATACTL_INCREMENTAL_MARKING'] === '1' || process.execArgv.some((a) => /^--(no-)?incremental[-_]marking$/.test(a))) return;
  v8.setFlagsFromString('--no-incremental-marking');
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw fail('E_BAD_REQUEST', `invalid port ${JSON.stringify(value)}: expected 0-65535`);
  return port;
}

function webhookSettings(opts: ServeOptions): WebhookSettings {
  return {
    retryPeriodMs: parseDuration(opts.webhookRetryPeriod, '--webhook-retry-period'),
    backoffBaseMs: positiveMs(opts.webhookBackoffBaseMs, '--webhook-backoff-base-ms'),
    backoffCapMs: positiveMs(opts.webhookBackoffCapMs, '--webhook-backoff-cap-ms'),
    timeoutMs: positiveMs(opts.webhookTimeoutMs, '--webhook-timeout-ms'),
  };
}

function positiveMs(value: string, name: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw fail('E_BAD_REQUEST', `invalid ${name} ${JSON.stringify(value)}: expected a whole number of milliseconds >= 1`);
  return Number(value);
}

/** Resolve on the first SIGINT/SIGTERM; a second one while closing exits at once. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
