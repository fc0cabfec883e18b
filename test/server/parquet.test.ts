import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver } from '../helpers/receiver.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { putFilesViaApi } from '../helpers/upload.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/parquet');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));
let server: TestServer;
const get = (url: string) => api(server.url, 'GET', url);

const CONTRACT = {
  columns: { user_id: { type: 'INT32', nullable: false }, name: { type: 'STRING' }, email: { type: 'STRING', nullable: false }, amount: { type: 'DOUBLE' } },
  extraColumns: 'deny',
  minRows: 990,
};

beforeAll(async () => {
  server = await startTestServer();
  await api(server.url, 'POST', '/v1/repos', { name: 'pq' });
});
afterAll(() => server.close());

describe('Parquet metadata at commit time', () => {
  it('shows schema, rows and statistics of files from DuckDB and arrow-rs', async () => {
    await putFilesViaApi(server.url, 'pq', 'main', {
      '/duck/types.parquet': fixture('duckdb/types.parquet'),
      '/rs/types.parquet': fixture('arrow-rs/types.parquet'),
    });
    const duck = await get('/v1/repos/pq/commits/main/inspect?path=/duck/types.parquet');
    expect(duck.json.parquet).toMatchObject({ ok: true, rows: 200 });
    const types = Object.fromEntries(duck.json.parquet.fields.map((f: any) => [f.name, f.type]));
    expect(types).toMatchObject({ dec18: 'DECIMAL(18,3)', dec38: 'DECIMAL(38,10)', day: 'DATE', ts_ms: 'TIMESTAMP(MILLIS)', ts_ns: 'TIMESTAMP(NANOS)', ts_tz: 'TIMESTAMP(MICROS,UTC)' });
    const rs = await get('/v1/repos/pq/commits/main/inspect?path=/rs/types.parquet');
    expect(rs.json.parquet.ok).toBe(true);
    expect(rs.json.parquet.columns.some((c: any) => c.stats && 'min' in c.stats)).toBe(true);
  });

  it('stores a corrupt .parquet file as bytes and flags it with the reason', async () => {
    const bytes = fixture('broken/truncated.parquet');
    expect((await putFilesViaApi(server.url, 'pq', 'main', { '/bad.parquet': bytes })).status).toBe(201);
    const inspect = await get('/v1/repos/pq/commits/main/inspect?path=/bad.parquet');
    expect(inspect.json.parquet).toEqual({ ok: false, error: expect.stringMatching(/missing PAR1 magic at end of file/) });
    expect(Buffer.from((await get('/v1/repos/pq/commits/main/file?path=/bad.parquet')).text, 'latin1').length).toBe(bytes.length);
  });

  it('inspects a non-Parquet file as a plain entry', async () => {
    await putFilesViaApi(server.url, 'pq', 'main', { '/notes.txt': 'hello' });
    const inspect = await get('/v1/repos/pq/commits/main/inspect?path=/notes.txt');
    expect(inspect.json).toMatchObject({ entry: { type: 'file', size: 5 }, parquet: null });
  });
});

describe('schema contracts', () => {
  beforeAll(async () => {
    await putFilesViaApi(server.url, 'pq', 'gated', { '/README': 'gated branch' });
    await putFilesViaApi(server.url, 'pq', 'soft', { '/README': 'soft branch' });
  });

  it('rejects a commit that violates an enforce contract, listing every violation file by file, and commits nothing', async () => {
    const set = await api(server.url, 'PUT', '/v1/repos/pq/branches/gated/contracts', { path: '/train/*.parquet', mode: 'enforce', contract: CONTRACT });
    expect(set.status).toBe(200);
    expect((await putFilesViaApi(server.url, 'pq', 'gated', { '/train/v1.parquet': fixture('arrow-rs/evolution-v1.parquet') })).status).toBe(201);
    const head = (await get('/v1/repos/pq/branches/gated')).json.head;
    const res = await putFilesViaApi(server.url, 'pq', 'gated', {
      '/train/v2.parquet': fixture('arrow-rs/evolution-v2.parquet'),
      '/train/broken.parquet': fixture('broken/bad-magic.parquet'),
      '/other/v2.parquet': fixture('arrow-rs/evolution-v2.parquet'),
    });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe('E_CONTRACT_VIOLATION');
    const violations: string[] = res.json.error.details.violations;
    expect(violations).toEqual(expect.arrayContaining([
      '/train/v2.parquet: column "user_id" has type INT64, expected INT32',
      '/train/v2.parquet: column "name" is missing',
      '/train/v2.parquet: column "email" is nullable, expected not null',
      '/train/v2.parquet: unexpected column "full_name" (extraColumns: deny)',
      '/train/v2.parquet: 950 rows, expected at least 990',
    ]));
    expect(violations.some((v) => v.startsWith('/train/broken.parquet: not a readable Parquet file'))).toBe(true);
    expect(violations.some((v) => v.startsWith('/other/'))).toBe(false);
    for (const v of violations) expect(res.json.error.message).toContain(v);
    expect((await get('/v1/repos/pq/branches/gated')).json.head).toBe(head);
  });

  it('commits despite a warn contract but marks the commit with the violations', async () => {
    await api(server.url, 'PUT', '/v1/repos/pq/branches/soft/contracts', { path: '/**/*.parquet', mode: 'warn', contract: CONTRACT });
    const res = await putFilesViaApi(server.url, 'pq', 'soft', { '/deep/x/v2.parquet': fixture('arrow-rs/evolution-v2.parquet') });
    expect(res.status).toBe(201);
    expect(res.json.commit.metadata.contractWarnings).toContain('/deep/x/v2.parquet: column "user_id" has type INT64, expected INT32');
  });

  it('lists, replaces and deletes contracts', async () => {
    await api(server.url, 'PUT', '/v1/repos/pq/branches/soft/contracts', { path: '/a/*.parquet', mode: 'warn', contract: { columns: {}, extraColumns: 'allow' } });
    await api(server.url, 'PUT', '/v1/repos/pq/branches/soft/contracts', { path: '/a/*.parquet', mode: 'enforce', contract: { columns: {}, extraColumns: 'allow', minRows: 1 } });
    const list = await get('/v1/repos/pq/branches/soft/contracts');
    expect(list.json.contracts.map((c: any) => [c.path, c.mode])).toEqual([['/**/*.parquet', 'warn'], ['/a/*.parquet', 'enforce']]);
    expect((await api(server.url, 'DELETE', '/v1/repos/pq/branches/soft/contracts?path=/a/*.parquet')).status).toBe(204);
    const gone = await api(server.url, 'DELETE', '/v1/repos/pq/branches/soft/contracts?path=/a/*.parquet');
    expect(gone.status).toBe(404);
    expect(gone.json.error.code).toBe('E_CONTRACT_NOT_FOUND');
  });

  it.each([
    [{ path: 'train/*.parquet', mode: 'enforce', contract: CONTRACT }, /must be a glob starting with "\/"/],
    [{ path: '/t/*', mode: 'strict', contract: CONTRACT }, /mode must be "enforce" or "warn"/],
    [{ path: '/t/*', mode: 'warn', contract: { columns: { x: { type: 'DUBLE' } }, extraColumns: 'allow' } }, /DUBLE/],
  ])('rejects the malformed contract %j with 400', async (body, message) => {
    const res = await api(server.url, 'PUT', '/v1/repos/pq/branches/soft/contracts', body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('E_INVALID_CONTRACT');
    expect(res.json.error.message).toMatch(message);
  });
});

describe('schema diffs', () => {
  it('reports added, removed and retyped columns, nullability changes and the row delta between refs', async () => {
    await putFilesViaApi(server.url, 'pq', 'evo', { '/users.parquet': fixture('arrow-rs/evolution-v1.parquet') });
    await putFilesViaApi(server.url, 'pq', 'evo', { '/users.parquet': fixture('arrow-rs/evolution-v2.parquet'), '/new.parquet': fixture('duckdb/uncompressed.parquet') });
    const diff = await get('/v1/repos/pq/diff?from=evo~1&to=evo');
    const users = diff.json.changes.find((c: any) => c.path === '/users.parquet');
    expect(users.type).toBe('modified');
    expect(users.schema).toMatchObject({
      hasSchemaChanges: true,
      addedColumns: [{ name: 'full_name', type: 'STRING', nullable: false }],
      removedColumns: [{ name: 'name', type: 'STRING', nullable: false }],
      retypedColumns: [{ name: 'user_id', from: 'INT32', to: 'INT64' }],
      nullabilityChanged: [{ name: 'email', from: false, to: true }],
      rowsBefore: 1000,
      rowsAfter: 950,
      rowDelta: -50,
    });
    const added = diff.json.changes.find((c: any) => c.path === '/new.parquet');
    expect(added.type).toBe('added');
    expect(added.schema.addedColumns.length).toBeGreaterThan(0);
  });

  it('carries schema changes and contract warnings in the commit event so CI can decide whether to retrain', async () => {
    const receiver = await Receiver.start();
    try {
      await putFilesViaApi(server.url, 'pq', 'ci', { '/train/data.parquet': fixture('arrow-rs/evolution-v1.parquet') });
      await api(server.url, 'PUT', '/v1/repos/pq/branches/ci/contracts', { path: '/train/*.parquet', mode: 'warn', contract: CONTRACT });
      const hook = await api(server.url, 'POST', '/v1/repos/pq/webhooks', { url: receiver.url, secret: 's3cret', branches: ['ci'], events: ['commit'] });
      expect(hook.status).toBe(201);
      const res = await putFilesViaApi(server.url, 'pq', 'ci', { '/train/data.parquet': fixture('arrow-rs/evolution-v2.parquet') });
      await waitFor(() => receiver.requests.length > 0, 10_000);
      const payload = receiver.requests[0]!.json;
      expect(payload.commit.id).toBe(res.json.commit.id);
      expect(payload.commit.contractWarnings).toContain('/train/data.parquet: column "user_id" has type INT64, expected INT32');
      expect(payload.changes.schemaChanges).toBe(1);
      expect(payload.changes.paths[0].schema).toMatchObject({ retypedColumns: [{ name: 'user_id', from: 'INT32', to: 'INT64' }], rowDelta: -50 });
    } finally {
      await receiver.down();
    }
  });
});
