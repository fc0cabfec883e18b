/** The small pieces of webhooks: backoff, signatures, globs, redaction, outcomes, targets, payloads. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEngine } from '../../src/engine.js';
import { commitChanges } from '../../src/ops/commit.js';
import { createRepo } from '../../src/ops/repos.js';
import type { BranchName, RepoName, RepoPath } from '../../src/types.js';
import { backoffDelay, nextAttemptAt } from '../../src/webhooks/backoff.js';
import { PayloadBuilder } from '../../src/webhooks/build-payload.js';
import { matchesAnyGlob, parseBranchGlob } from '../../src/webhooks/glob.js';
import { applyOutcome } from '../../src/webhooks/outcome.js';
import type { CommitEventPayload } from '../../src/webhooks/payload.js';
import { redactCredentials } from '../../src/webhooks/redact.js';
import { signBody, verifySignature } from '../../src/webhooks/signature.js';
import { GitPinTarget } from '../../src/webhooks/targets/git.js';
import { HttpTarget } from '../../src/webhooks/targets/http.js';
import type { DeliveryRecord } from '../../src/webhooks/types.js';
import { Receiver } from '../helpers/receiver.js';
import { chunkBytes } from '../helpers/upload.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('backoff', () => {
  const opts = { baseMs: 1000, capMs: 600_000 };
  it('draws full jitter below a ceiling that doubles per attempt and stops at the cap', () => {
    const top = { ...opts, random: () => 0.999999 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, top))).toEqual([999, 1999, 3999, 7999]);
    expect(backoffDelay(30, top)).toBe(599_999);
    expect(backoffDelay(5000, top)).toBe(599_999);
    expect(backoffDelay(3, { ...opts, random: () => 0 })).toBe(0);
    for (let i = 0; i < 100; i++) expect(backoffDelay(3, opts)).toBeLessThan(4000);
  });

  it('places the last attempt at the end of the retry period, then gives up', () => {
    const o = { ...opts, random: () => 0.999999 };
    expect(nextAttemptAt(10_000, 0, 1, 60_000, o)).toBe(10_999);
    expect(nextAttemptAt(59_500, 0, 1, 60_000, o)).toBe(60_000);
    expect(nextAttemptAt(60_000, 0, 9, 60_000, o)).toBeNull();
  });
});

describe('signature', () => {
  it("matches GitHub's documented X-Hub-Signature-256 example", () => {
    expect(signBody("It's a Secret to Everybody", 'Hello, World!')).toBe('sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17');
  });
  it('verifies in constant time and rejects other bodies, secrets and missing headers', () => {
    const header = signBody('s', '{"a":1}');
    expect(verifySignature('s', '{"a":1}', header)).toBe(true);
    expect(verifySignature('s', '{"a":2}', header)).toBe(false);
    expect(verifySignature('t', '{"a":1}', header)).toBe(false);
    expect(verifySignature('s', '{"a":1}', undefined)).toBe(false);
  });
});

describe('branch globs', () => {
  it('match "*" against any run of name characters and everything else literally', () => {
    expect(matchesAnyGlob(['*'], 'anything.at-all')).toBe(true);
    expect(matchesAnyGlob(['feature-*'], 'feature-x')).toBe(true);
    expect(matchesAnyGlob(['feature-*'], 'feature-')).toBe(true);
    expect(matchesAnyGlob(['feature-*'], 'feat')).toBe(false);
    expect(matchesAnyGlob(['v1.*'], 'v1.2')).toBe(true);
    expect(matchesAnyGlob(['v1.*'], 'v1x2')).toBe(false);
    expect(matchesAnyGlob(['*-rc'], 'v2-rc')).toBe(true);
    expect(matchesAnyGlob(['main', 'dev'], 'dev')).toBe(true);
    expect(matchesAnyGlob(['main'], 'main2')).toBe(false);
  });
  it('reject separators, spaces and empty globs', () => {
    for (const bad of ['a/b', 'a b', '', 'a?', 42]) expect(() => parseBranchGlob(bad)).toThrow(/invalid branch glob/);
  });
});

describe('credential redaction', () => {
  it('hides the user info of every URL in a text and leaves the rest alone', () => {
    expect(redactCredentials('https://user:pass@git.test/r.git')).toBe('https://***@git.test/r.git');
    expect(redactCredentials("fatal: unable to access 'https://ghp_token@github.test/o/r.git/'")).toBe("fatal: unable to access 'https://***@github.test/o/r.git/'");
    expect(redactCredentials('git@github.test:o/r.git and https://github.test/o/r')).toBe('git@github.test:o/r.git and https://github.test/o/r');
  });
});

const record = (over: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  id: '6f1c2d9e-0000-4000-8000-000000000001', seq: '0000000000000001', event: 'commit', repo: 'r' as RepoName, branch: 'main' as BranchName,
  commit: 'c'.repeat(64), createdAt: '2026-01-01T00:00:00.000Z', status: 'pending', attempts: 0, enqueuedAt: '2026-01-01T00:00:00.000Z', ...over,
});

describe('attempt outcomes', () => {
  const policy = { baseMs: 1000, capMs: 60_000, retryPeriodMs: 3_600_000, random: () => 0.5 };
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  it('mark a 2xx delivered and clear the previous error', () => {
    const r = applyOutcome(record({ attempts: 1, lastError: 'x', status: 'failed' }), { ok: true, statusCode: 204, latencyMs: 12 }, t0 + 5000, policy);
    expect(r).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 204, lastError: undefined, lastLatencyMs: 12, deliveredAt: '2026-01-01T00:00:05.000Z' });
  });
  it('schedule a failure for a jittered retry inside the retry period', () => {
    const r = applyOutcome(record(), { ok: false, statusCode: 500, error: 'receiver answered HTTP 500', latencyMs: 3 }, t0, policy);
    expect(r).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 500, nextAttemptAt: '2026-01-01T00:00:00.500Z' });
  });
  it('dead-letter a failure after the retry period, and at once when retrying cannot help', () => {
    expect(applyOutcome(record({ attempts: 40 }), { ok: false, error: 'timed out', latencyMs: 10_000 }, t0 + 3_600_000, policy).status).toBe('dead');
    expect(applyOutcome(record(), { ok: false, error: 'commit gone', latencyMs: 0, permanent: true }, t0, policy).status).toBe('dead');
  });
});

const commitEvent = { event: 'commit', deliveryId: 'd', repo: 'r', branch: 'main', commit: { id: 'c', parents: [], message: 'm', author: 'a', createdAt: 'x' }, changes: { added: 0, modified: 0, deleted: 0, paths: [], truncated: false }, pin: { repo: 'r', branch: 'main', commit: 'c' } } as CommitEventPayload;

describe('targets', () => {
  it('the git target reports a bump as success and a thrown error, redacted, as a failed attempt', async () => {
    const spec = { url: 'https://u:tok@git.test/c.git', branch: 'main', pinFile: 'p.json', key: 'k' };
    const ok = new GitPinTarget(async () => ({ bump: async () => ({ status: 'pushed' as const, codeCommit: 'abc', message: 'pinned' }) }), spec);
    expect(await ok.deliver(commitEvent, '{}', new AbortController().signal)).toEqual({ ok: true, result: 'pushed abc: pinned' });
    const failing = new GitPinTarget(async () => ({ bump: async () => Promise.reject(new Error("push to https://u:tok@git.test/c.git rejected")) }), spec);
    expect(await failing.deliver(commitEvent, '{}', new AbortController().signal)).toEqual({ ok: false, error: 'push to https://***@git.test/c.git rejected' });
  });

  it('the http target sends URL credentials as Basic auth, and reports redirects as failures', async () => {
    const rx = await Receiver.start((_req, i) => (i === 0 ? 200 : 302));
    cleanups.push(() => rx.down());
    const url = rx.url.replace('http://', 'http://hook:p%40ss@');
    const target = new HttpTarget({ url, secret: null, timeoutMs: 2000, userAgent: 'ua/1' });
    expect(await target.deliver(commitEvent, '{"x":1}', new AbortController().signal)).toEqual({ ok: true, statusCode: 200 });
    expect(rx.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('hook:p@ss').toString('base64')}`);
    expect(rx.requests[0]!.headers['x-datactl-signature-256']).toBeUndefined();
    expect(await target.deliver(commitEvent, '{"x":1}', new AbortController().signal)).toMatchObject({ ok: false, statusCode: 302 });
  });

  it('the http target gives up on a receiver that does not answer within the timeout', async () => {
    const rx = await Receiver.start(() => 'hang');
    cleanups.push(() => rx.down());
    const target = new HttpTarget({ url: rx.url, secret: 's', timeoutMs: 200, userAgent: 'ua/1' });
    expect(await target.deliver(commitEvent, '{}', new AbortController().signal)).toEqual({ ok: false, error: 'timed out after 200 ms' });
  });
});

describe('payload builder', () => {
  it('builds byte-identical JSON for the same delivery, every time', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'datactl-payload-'));
    const engine = await openEngine({ dataDir });
    cleanups.push(async () => {
      await engine.close();
      await rm(dataDir, { recursive: true, force: true });
    });
    const repo = 'p' as RepoName;
    await createRepo(engine.ctx, repo);
    // A manifest with no chunks (empty files) needs no upload.
    const empty = chunkBytes(new Uint8Array(0)).manifest;
    const changes = ['/b', '/a', '/c/d'].map((p) => ({ op: 'put' as const, path: p as RepoPath, manifest: empty }));
    const { commit } = await commitChanges(engine.ctx, { repo, branch: 'main' as BranchName, changes, message: 'm', author: 'a', metadata: { z: 1, a: 2 } });
    const r = record({ repo, commit: commit!.id });
    const first = await new PayloadBuilder(engine.ctx).build(r);
    const second = await new PayloadBuilder(engine.ctx).build(r);
    expect(second.body).toBe(first.body);
    expect(Object.keys(JSON.parse(first.body))).toEqual(['event', 'deliveryId', 'repo', 'branch', 'commit', 'changes', 'pin']);
    expect((first.payload as CommitEventPayload).changes.paths.map((p) => p.path)).toEqual(['/a', '/b', '/c/d']);
  });
});
