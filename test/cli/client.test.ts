import { describe, expect, it } from 'vitest';
import { DatactlClient, paginate } from '../../cli/client.js';
import { isUnreachable } from '../../cli/http.js';

type Call = { method: string; url: string; headers: Record<string, string> };

/** A fetch that answers from a script, one entry per call ('refused' throws like undici does). */
function scriptedFetch(script: Array<'refused' | Response>) {
  const calls: Call[] = [];
  const fn = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ method: init?.method ?? 'GET', url: String(input), headers: (init?.headers ?? {}) as Record<string, string> });
    const next = script.shift();
    if (!next) throw new Error('unexpected request');
    if (next === 'refused') {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    }
    return next;
  }) as typeof fetch;
  return { fn, calls };
}

const datactl = { 'x-datactl-api': '1' };
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...datactl } });
const unavailable = () => json({ error: { code: 'E_STORE_UNAVAILABLE', message: 'store down' } }, 503);
const repo = { name: 'r', description: '', createdAt: 'now', branches: 0 };

function client(script: Array<'refused' | Response>) {
  const f = scriptedFetch(script);
  return { c: new DatactlClient({ baseUrl: 'http://srv/', fetch: f.fn, retryDelayMs: 1 }), calls: f.calls };
}

describe('DatactlClient', () => {
  it('builds URLs with encoded segments and query parameters', async () => {
    const { c, calls } = client([json({ commit: 'c', path: '/a b', entries: [], nextCursor: null })]);
    await c.listTree('r', 'main^', { path: '/a b', manifests: true, limit: 5 });
    expect(calls[0]!.url).toBe('http://srv/v1/repos/r/commits/main%5E/tree?path=%2Fa+b&limit=5&manifests=1');
  });

  it('retries idempotent requests on connection errors and 503, then succeeds', async () => {
    const { c, calls } = client(['refused', unavailable(), json(repo)]);
    expect(await c.getRepo('r')).toEqual(repo);
    expect(calls).toHaveLength(3);
  });

  it('gives up after three attempts with an "unreachable" error', async () => {
    const { c, calls } = client(['refused', 'refused', 'refused']);
    const err = await c.getRepo('r').catch((e: unknown) => e);
    expect(isUnreachable(err)).toBe(true);
    expect(calls).toHaveLength(3);
  });

  it('takes a 2xx without the datactl header for another service on that URL, not for an answer to read', async () => {
    const foreign = new Response(JSON.stringify({ hello: 'world' }), { status: 200, headers: { 'content-type': 'application/json' } });
    const { c } = client([foreign]);
    const err = await c.listRepos().catch((e: unknown) => e);
    expect(isUnreachable(err)).toBe(true);
    expect(err).toMatchObject({ message: "no datactl server at http://srv: something there answered GET /v1/repos with HTTP 200, without datactl's x-datactl-api header" });
  });

  it('never retries a commit', async () => {
    const { c, calls } = client([unavailable()]);
    await expect(c.commit('r', { branch: 'main', message: 'm', author: 'a', changes: [] })).rejects.toMatchObject({
      code: 'E_STORE_UNAVAILABLE',
      message: 'store down',
    });
    expect(calls).toHaveLength(1);
  });

  it('retries chunk uploads, which are idempotent by content', async () => {
    const { c, calls } = client([unavailable(), json({ received: 0, stored: 0, storedBytes: 0, deduplicated: 0 })]);
    await c.uploadChunks('r', new Uint8Array(0));
    expect(calls.map((x) => x.method)).toEqual(['POST', 'POST']);
  });

  it('sends a Range header for partial reads and exposes the datactl headers', async () => {
    const body = new Response('abc', { status: 206, headers: { ...datactl, 'x-datactl-commit': 'c1', 'x-datactl-content-hash': 'h1', 'content-length': '3' } });
    const { c, calls } = client([body]);
    const dl = await c.readFile('r', 'main', '/f', { range: { start: 2 } });
    expect(calls[0]!.headers['range']).toBe('bytes=2-');
    expect(dl).toMatchObject({ status: 206, commit: 'c1', contentHash: 'h1', contentLength: 3 });
    expect(await new Response(dl.body).text()).toBe('abc');
  });
});

describe('paginate', () => {
  it('follows nextCursor until null', async () => {
    const pages: Record<string, { items: number[]; nextCursor: string | null }> = {
      start: { items: [1, 2], nextCursor: 'b' },
      b: { items: [3], nextCursor: null },
    };
    const got: number[] = [];
    for await (const n of paginate(async (p) => pages[p.cursor ?? 'start']!, (p) => p.items)) got.push(n);
    expect(got).toEqual([1, 2, 3]);
  });

  it('stops at max and asks for no more than it needs', async () => {
    const limits: number[] = [];
    const fetchPage = async (p: { limit?: number }) => {
      limits.push(p.limit!);
      return { items: Array.from({ length: p.limit! }, (_, i) => i), nextCursor: 'more' };
    };
    const got: number[] = [];
    for await (const n of paginate(fetchPage, (p) => p.items, { max: 5, pageSize: 3 })) got.push(n);
    expect(got).toHaveLength(5);
    expect(limits).toEqual([3, 2]);
  });
});
