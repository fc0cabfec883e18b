import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.js';
import type { IdleGcOptions } from '../../server/idle-gc.js';
import { openEngine, type Engine } from '../../src/engine.js';
import { waitFor } from '../helpers/wait.js';

const MB = 1024 * 1024;
const COLLECTED = 'collected garbage while idle';

let opened: { app: FastifyInstance; engine: Engine; dir: string } | undefined;
afterEach(async () => {
  await opened?.app.close();
  await opened?.engine.close();
  if (opened) await rm(opened.dir, { recursive: true, force: true });
  opened = undefined;
});

async function appWithIdleGc(idleGc: IdleGcOptions): Promise<{ app: FastifyInstance; logs: string[] }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'datactl-idle-gc-'));
  const engine = await openEngine({ dataDir: dir });
  const logs: string[] = [];
  const stream = new Writable({
    write(line, _encoding, done) {
      logs.push(String(line));
      done();
    },
  });
  const app = await buildApp({ engine, logger: { level: 'debug', stream }, idleGc, deliverWebhooks: false });
  opened = { app, engine, dir };
  return { app, logs };
}

function heapBytes(): number {
  const h = v8.getHeapStatistics();
  return h.total_heap_size + h.external_memory;
}

/** Leaves ~50 MB of dead objects in the old generation: kept alive long enough to be promoted, then dropped. */
function burstOfWork(): void {
  const kept: Array<{ i: number; s: string }> = [];
  for (let i = 0; i < 800_000; i++) kept.push({ i, s: `entry ${i}` });
  kept.length = 0;
}

describe('collecting garbage once the server is idle', () => {
  it('gives back the heap a burst of work grew, once no response has finished for the idle time', async () => {
    const { app, logs } = await appWithIdleGc({ idleMs: 50, growthBytes: 16 * MB });
    const before = heapBytes();
    burstOfWork();
    const grown = heapBytes();
    expect(grown - before).toBeGreaterThan(16 * MB);

    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await waitFor(() => logs.some((l) => l.includes(COLLECTED)), 5_000);

    expect(grown - heapBytes()).toBeGreaterThan(16 * MB);
  });

  it('leaves a heap that grew less than the threshold alone', async () => {
    const { app, logs } = await appWithIdleGc({ idleMs: 20, growthBytes: 1024 * MB });
    burstOfWork();
    for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // A negative: nothing to wait on but the idle time, several times over.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(logs.filter((l) => l.includes(COLLECTED))).toEqual([]);
  });
});
