/**
 * A client that goes away in the middle of an upload is the client's doing: the server logs it at
 * info as E_TRUNCATED_UPLOAD, not as an internal error, and keeps nothing from the request.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { openEngine, type Engine } from '../../src/engine.js';
import { blake3Hex } from '../../src/hash/blake3.js';
import { encodeFrame } from '../../src/wire/frames.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { api } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let dir: string;
let engine: Engine;
let app: FastifyInstance;
let url: string;
const logs: Array<{ level: number; msg: string; code?: string }> = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'datactl-client-gone-'));
  engine = await openEngine({ dataDir: dir });
  const stream = new Writable({
    write(line, _encoding, done) {
      logs.push(JSON.parse(String(line)) as (typeof logs)[number]);
      done();
    },
  });
  app = await buildApp({ engine, logger: { level: 'info', stream }, deliverWebhooks: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  await api(url, 'POST', '/v1/repos', { name: 'r' });
});
afterAll(async () => {
  await app?.close();
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a client that disconnects mid-upload', () => {
  it('is logged at info as E_TRUNCATED_UPLOAD, and nothing of its upload is kept', async () => {
    const bytes = seededBytes(5, 2 * 1024 * 1024);
    const hash = blake3Hex(bytes);
    const [header, body] = encodeFrame(hash, bytes);
    const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST /v1/repos/r/chunks HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${header.length + body.length}\r\n\r\n`);
    socket.write(header);
    socket.write(body.subarray(0, 1024 * 1024));
    await waitFor(() => logs.some((l) => l.msg === 'incoming request' && JSON.stringify(l).includes('/chunks')), 5_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();

    await waitFor(() => logs.some((l) => l.code === 'E_TRUNCATED_UPLOAD'), 5_000);
    expect(logs.find((l) => l.code === 'E_TRUNCATED_UPLOAD')).toMatchObject({ level: 30, msg: 'the client went away before the request body ended' });
    expect(logs.filter((l) => l.level >= 50)).toEqual([]);
    expect((await api(url, 'POST', '/v1/repos/r/chunks/missing', { hashes: [hash] })).json.missing).toEqual([hash]);
  });
});
