import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import v8 from 'node:v8';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../server/app.js';
import type { IdleGcOptions } from '../../server/idle-gc.js';
import { openEngine, type Engine } from '../../src/engine.js';
import { chunkBytes, frames } from '../helpers/upload.js';
import { waitFor } from '../helpers/wait.js';

const MB = 1024 * 1024;
const COLLECTED = 'collected garbage while idle';
const COLLECTED_BUSY = 'collected garbage while busy';

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

/** ~50 MB of objects in the old generation, live while the caller holds them. */
function manyObjects(): Array<{ i: number; s: string }> {
  const kept: Array<{ i: number; s: string }> = [];
  for (let i = 0; i < 800_000; i++) kept.push({ i, s: `entry ${i}` });
  return kept;
}

/** Leaves ~50 MB of dead objects in the old generation: kept alive long enough to be promoted, then dropped. */
function burstOfWork(): void {
  manyObjects().length = 0;
}

describe('collecting garbage once the server is idle', () => {
  it('gives back the heap a burst of work grew, once no request has been in progress for the idle time', async () => {
    const { app, logs } = await appWithIdleGc({ idleMs: 50, growthBytes: 16 * MB });
    const before = heapBytes();
    burstOfWork();
    const grown = heapBytes();
    expect(grown - before).toBeGreaterThan(16 * MB);

    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await waitFor(() => logs.some((l) => l.includes(COLLECTED)), 5_000);

    expect(grown - heapBytes()).toBeGreaterThan(16 * MB);
  });

  it('waits while a request is still in progress (a put streams its commit for as long as it uploads)', async () => {
    let releases = 0;
    const { app, logs } = await appWithIdleGc({ idleMs: 20, growthBytes: 16 * MB, busyGrowthBytes: 1024 * MB, release: async () => (releases++, true) });
    const body = new PassThrough();
    const creating = app.inject({ method: 'POST', url: '/v1/repos', headers: { 'content-type': 'application/json' }, payload: body });
    body.write('{"name": ');
    // Another request starts and ends meanwhile: its end is not idleness.
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // Live objects, so the heap stays grown (V8 cannot free them on its own while we wait) and
    // only the request in progress can hold the collection back.
    let held = manyObjects();
    // A negative: nothing to wait on but the idle time, several times over.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(logs.filter((l) => l.includes(COLLECTED))).toEqual([]);
    expect(releases).toBe(0);

    body.end('"idle-gc"}');
    expect((await creating).statusCode).toBe(201);
    await waitFor(() => logs.some((l) => l.includes(COLLECTED)), 5_000);
    await waitFor(() => logs.some((l) => l.includes('released store memory while idle')), 5_000);
    expect(releases).toBe(1);
    expect(held.length).toBe(800_000);
    held = [];
  });

  it('counts a request the client abandons as ended', async () => {
    const { app, logs } = await appWithIdleGc({ idleMs: 20, growthBytes: 16 * MB, busyGrowthBytes: 1024 * MB });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    // Headers of a body that never comes: the request is in progress until the socket closes.
    socket.write('POST /v1/repos HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na');
    await waitFor(() => logs.some((l) => l.includes('incoming request') && l.includes('/v1/repos')), 5_000);
    let held = manyObjects();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(logs.filter((l) => l.includes(COLLECTED))).toEqual([]);

    socket.destroy();
    await waitFor(() => logs.some((l) => l.includes(COLLECTED)), 5_000);
    expect(held.length).toBe(800_000);
    held = [];
  });

  it('tells the metadata store to release memory when idle, and logs a failure without stopping', async () => {
    const { app, logs } = await appWithIdleGc({ idleMs: 20, growthBytes: 1024 * MB, release: () => Promise.reject(new Error('disk on fire')) });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await waitFor(() => logs.some((l) => l.includes('releasing store memory while idle failed') && l.includes('disk on fire')), 5_000);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('releases the LevelDB memtable a burst of writes left, by default', async () => {
    const { app, logs } = await appWithIdleGc({ idleMs: 20, growthBytes: 1024 * MB });
    const meta = opened!.engine.ctx.meta;
    for (let at = 0; at < 3_000; at += 1000) {
      await meta.batch(Array.from({ length: 1000 }, (_, i) => ({ type: 'put' as const, key: `t:${at + i}`, value: 'x'.repeat(2048) })), { sync: false });
    }
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await waitFor(() => logs.some((l) => l.includes('released store memory while idle')), 5_000);
    expect(await meta.releaseMemory()).toBe(false);
  });

  it('leaves a heap that grew less than the threshold alone', async () => {
    // No spare buffers either (the pack pool is per process: an earlier upload could leave some).
    const { app, logs } = await appWithIdleGc({ idleMs: 20, growthBytes: 1024 * MB, dropSpareBuffers: () => 0 });
    burstOfWork();
    for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    // A negative: nothing to wait on but the idle time, several times over.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(logs.filter((l) => l.includes(COLLECTED))).toEqual([]);
  });

  it('collects while a request is in progress once the used heap has grown by the busy step, and not before', async () => {
    const { app, logs } = await appWithIdleGc({ idleMs: 20, growthBytes: 1024 * MB, busyCheckMs: 20, busyGrowthBytes: 16 * MB });
    const body = new PassThrough();
    const creating = app.inject({ method: 'POST', url: '/v1/repos', headers: { 'content-type': 'application/json' }, payload: body });
    body.write('{"name": ');
    // A negative: several checks pass with the heap where it was.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(logs.filter((l) => l.includes(COLLECTED_BUSY))).toEqual([]);

    // Live, so the heap stays grown whatever V8 collects on its own meanwhile.
    let held = manyObjects();
    await waitFor(() => logs.some((l) => l.includes(COLLECTED_BUSY)), 5_000);
    expect(held.length).toBe(800_000);
    held = [];
    body.end('"busy-gc"}');
    expect((await creating).statusCode).toBe(201);
  });

  it('stops checking once no request is in progress', async () => {
    const { app, logs } = await appWithIdleGc({ idleMs: 10_000, growthBytes: 1024 * MB, busyCheckMs: 20, busyGrowthBytes: 16 * MB });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    burstOfWork();
    // A negative: the heap grew past the step, but after the last request ended.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(logs.filter((l) => l.includes('collected garbage'))).toEqual([]);
  });

  it('lets go of the pack buffers an upload left for reuse once quiet, and collects them', async () => {
    const { app, logs } = await appWithIdleGc({ idleMs: 20, quietMs: 50, growthBytes: 1024 * MB, busyGrowthBytes: 1024 * MB });
    const json = { 'content-type': 'application/json' };
    expect((await app.inject({ method: 'POST', url: '/v1/repos', headers: json, payload: { name: 'spare' } })).statusCode).toBe(201);
    const { chunks } = chunkBytes(Buffer.from('bytes that need a pack buffer'));
    const upload = await app.inject({
      method: 'POST', url: '/v1/repos/spare/chunks', headers: { 'content-type': 'application/octet-stream' }, payload: frames(chunks),
    });
    expect(upload.statusCode).toBe(200);

    // The heap did not grow by the step: the collection is for the dropped buffers.
    await waitFor(() => logs.some((l) => l.includes(COLLECTED)), 5_000);
    expect(opened!.engine.dropSpareBuffers()).toBe(0);
  });
});
