/**
 * The standalone receiver over real HTTP: signatures, replays, mappings, failures, and the pushes
 * it makes into a real bare repo (whose refs prove when nothing was touched).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiverConfig } from '../../hooks/pin-bumper/config.js';
import { startReceiver, type RunningReceiver } from '../../hooks/pin-bumper/receiver.js';
import { signBody } from '../../src/webhooks/signature.js';
import { gitSandbox, logOf, refsOf, showFile, type GitSandbox } from '../helpers/git.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { commitChain, commitEvent } from './events.js';

const SECRET = 'test-secret-0123456789';
let server: TestServer;
let sandbox: GitSandbox;
let workRoot: string;
let chain: string[];

beforeAll(async () => {
  server = await startTestServer();
  sandbox = await gitSandbox();
  workRoot = await mkdtemp(path.join(os.tmpdir(), 'datactl-receiver-'));
  chain = await commitChain(server.url, 'images', 'main', 3);
});
afterAll(async () => {
  await server?.close();
  await sandbox?.cleanup();
  await rm(workRoot, { recursive: true, force: true });
});

let n = 0;
function configFor(url: string, extra: Partial<ReceiverConfig> = {}): ReceiverConfig {
  return {
    secret: SECRET,
    workDir: path.join(workRoot, `w${++n}`),
    server: server.url,
    mappings: [{ repo: 'images', branch: '*', target: { url, branch: 'main', pinFile: 'configuration/data.json', key: 'train' } }],
    ...extra,
  };
}

interface Started extends RunningReceiver {
  logs: string[];
}

async function start(config: ReceiverConfig): Promise<Started> {
  const logs: string[] = [];
  const receiver = await startReceiver(config, { logLevel: 'debug', logStream: { write: (line: string) => void logs.push(line) } });
  return { ...receiver, logs };
}

async function post(base: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/hook`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as any };
}

function signed(payload: unknown, secret = SECRET): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(payload);
  const id = (payload as { deliveryId: string }).deliveryId;
  return { body, headers: { 'X-Datactl-Signature-256': signBody(secret, body), 'X-Datactl-Event': 'commit', 'X-Datactl-Delivery': id } };
}

const send = (base: string, payload: unknown) => {
  const s = signed(payload);
  return post(base, s.body, s.headers);
};

describe('the pin bumper receiver', () => {
  it('applies a signed commit event and answers 200 only once the push is done', async () => {
    const url = await sandbox.bare();
    const r = await start(configFor(url));
    try {
      const res = await send(r.url, commitEvent('images', 'main', chain[1]!));
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('pushed');
      expect(res.json.results).toHaveLength(1);
      expect((await refsOf(url))['refs/heads/main']).toBe(res.json.results[0].codeCommit);
      expect(JSON.parse((await showFile(url, 'main', 'configuration/data.json'))!).train.commit).toBe(chain[1]);
      // An older commit arriving late is acknowledged (no retry wanted) but moves nothing.
      const older = await send(r.url, commitEvent('images', 'main', chain[0]!));
      expect(older.status).toBe(200);
      expect(older.json.status).toBe('ignored-older');
      expect(await logOf(url, 'main')).toHaveLength(1);
    } finally {
      await r.close();
    }
  });

  it('rejects a forged signature, a missing one and a body changed after signing with 401, touching nothing', async () => {
    const url = await sandbox.bare();
    const r = await start(configFor(url));
    try {
      const good = signed(commitEvent('images', 'main', chain[2]!));
      const forged = signed(commitEvent('images', 'main', chain[2]!), 'not-the-secret');
      const tampered = good.body.replace(chain[2]!, chain[0]!);
      const { 'X-Datactl-Signature-256': _, ...unsigned } = good.headers;
      for (const attempt of [post(r.url, forged.body, forged.headers), post(r.url, good.body, unsigned), post(r.url, tampered, good.headers)]) {
        const res = await attempt;
        expect(res.status).toBe(401);
        expect(res.json.error.code).toBe('E_BAD_SIGNATURE');
      }
      const malformed = await post(r.url, good.body, { ...good.headers, 'X-Datactl-Signature-256': 'sha256=abc' });
      expect(malformed.status).toBe(401);
      expect(await refsOf(url)).toEqual({});
      expect(r.logs.some((l) => l.includes('missing or wrong signature'))).toBe(true);
    } finally {
      await r.close();
    }
  });

  it('answers a replayed delivery with duplicate and pushes nothing, also after a restart', async () => {
    const url = await sandbox.bare();
    const config = configFor(url);
    let r = await start(config);
    const event = commitEvent('images', 'main', chain[0]!);
    try {
      expect((await send(r.url, event)).json.status).toBe('pushed');
      const refs = await refsOf(url);
      const replay = await send(r.url, event);
      expect(replay.status).toBe(200);
      expect(replay.json).toEqual({ status: 'duplicate', deliveryId: event.deliveryId });
      await r.close();
      r = await start(config);
      expect((await send(r.url, event)).json.status).toBe('duplicate');
      expect(await refsOf(url)).toEqual(refs);
    } finally {
      await r.close();
    }
  });

  it('applies one delivery sent twice at the same moment once', async () => {
    const url = await sandbox.bare();
    const r = await start(configFor(url));
    try {
      const event = commitEvent('images', 'main', chain[2]!);
      const [a, b] = await Promise.all([send(r.url, event), send(r.url, event)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(await logOf(url, 'main')).toHaveLength(1);
    } finally {
      await r.close();
    }
  });

  it('answers 202 for other events and unmapped repos or branches, touching nothing', async () => {
    const url = await sandbox.bare();
    const config = configFor(url);
    config.mappings[0]!.branch = 'release-*';
    const r = await start(config);
    try {
      const branchEvent = { event: 'branch.created', deliveryId: 'd-branch-1', repo: 'images', branch: 'x', head: null };
      expect(await send(r.url, branchEvent)).toMatchObject({ status: 202, json: { status: 'ignored' } });
      expect(await send(r.url, commitEvent('images', 'main', chain[0]!))).toMatchObject({ status: 202, json: { status: 'ignored' } });
      expect(await send(r.url, commitEvent('labels', 'release-1', chain[0]!))).toMatchObject({ status: 202, json: { status: 'ignored' } });
      expect(await refsOf(url)).toEqual({});
      expect(await send(r.url, commitEvent('images', 'release-1', chain[0]!))).toMatchObject({ status: 200, json: { status: 'pushed' } });
    } finally {
      await r.close();
    }
  });

  it('refuses bodies over 1 MiB (413), malformed payloads (400), and answers /healthz', async () => {
    const url = await sandbox.bare();
    const r = await start(configFor(url));
    try {
      const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
      expect((await post(r.url, big, { 'X-Datactl-Signature-256': signBody(SECRET, big) })).status).toBe(413);
      const notJson = 'not json';
      expect((await post(r.url, notJson, { 'X-Datactl-Signature-256': signBody(SECRET, notJson) })).status).toBe(400);
      const badPin = commitEvent('images', 'main', 'main');
      expect((await send(r.url, badPin)).status).toBe(400);
      const mismatched = signed(commitEvent('images', 'main', chain[0]!));
      expect((await post(r.url, mismatched.body, { ...mismatched.headers, 'X-Datactl-Delivery': 'other-id' })).status).toBe(400);
      const health = await fetch(`${r.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });
      expect(await refsOf(url)).toEqual({});
    } finally {
      await r.close();
    }
  });

  it('answers 500 when the push fails, so the sender retries, and never shows the credentials', async () => {
    const url = `http://bob:hunter2-secret@127.0.0.1:${await closedPort()}/code.git`;
    const r = await start(configFor(url));
    try {
      const event = commitEvent('images', 'main', chain[0]!);
      const res = await send(r.url, event);
      expect(res.status).toBe(500);
      expect(res.json.error.code).toBe('E_BUMP_FAILED');
      expect(res.text).not.toContain('hunter2-secret');
      expect(r.logs.join('')).not.toContain('hunter2-secret');
      expect(r.logs.join('')).toContain('//***@127.0.0.1');
      // Not remembered as applied: the sender's retry is processed again.
      expect((await send(r.url, event)).status).toBe(500);
    } finally {
      await r.close();
    }
  });
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}
