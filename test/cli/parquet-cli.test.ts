import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/parquet');
let server: TestServer;
let work: string;
const cli = (args: string[]) => runCli([...args, '--server', server.url]);

beforeAll(async () => {
  server = await startTestServer();
  work = await mkdtemp(path.join(os.tmpdir(), 'datactl-pqcli-'));
  await cli(['repo', 'create', 'ml']);
  await cli(['put', 'file', 'ml@main:/train/users.parquet', '-f', path.join(FIXTURES, 'arrow-rs/evolution-v1.parquet')]);
});
afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

describe('Parquet through the CLI', () => {
  it('inspect file shows schema, rows and statistics', async () => {
    const res = await cli(['inspect', 'file', 'ml@main:/train/users.parquet']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/Rows:\s+1,000/);
    expect(res.stdout).toMatch(/user_id\s+INT32\s+no/);
    expect(res.stdout).toMatch(/amount\s+DOUBLE\s+yes/);
    const json = JSON.parse((await cli(['inspect', 'file', 'ml@main:/train/users.parquet', '--json'])).stdout);
    expect(json.parquet).toMatchObject({ ok: true, rows: 1000 });
  });

  it('contract set/get/delete, and an enforce contract rejects a bad commit with exit 7 and every violation', async () => {
    const contract = path.join(work, 'contract.json');
    await writeFile(contract, JSON.stringify({ columns: { user_id: { type: 'INT32', nullable: false } }, extraColumns: 'allow', minRows: 990 }));
    expect((await cli(['contract', 'set', 'ml@main', '--path', '/train/*.parquet', '--mode', 'enforce', '-f', contract])).code).toBe(0);
    const got = JSON.parse((await cli(['contract', 'get', 'ml@main', '--json'])).stdout);
    expect(got.contracts).toMatchObject([{ path: '/train/*.parquet', mode: 'enforce' }]);

    const rejected = await cli(['put', 'file', 'ml@main:/train/users.parquet', '-f', path.join(FIXTURES, 'arrow-rs/evolution-v2.parquet')]);
    expect(rejected.code).toBe(7);
    expect(rejected.stderr).toMatch(/^datactl: commit rejected by schema contracts/);
    expect(rejected.stderr).toContain('/train/users.parquet: column "user_id" has type INT64, expected INT32');
    expect(rejected.stderr).toContain('/train/users.parquet: 950 rows, expected at least 990');

    expect((await cli(['contract', 'delete', 'ml@main', '--path', '/train/*.parquet'])).code).toBe(0);
    const missing = await cli(['contract', 'get', 'ml@main', '--path', '/train/*.parquet']);
    expect(missing.code).toBe(3);
  });

  it('diff lists schema changes under the changed file', async () => {
    await cli(['put', 'file', 'ml@main:/train/users.parquet', '-f', path.join(FIXTURES, 'arrow-rs/evolution-v2.parquet')]);
    const res = await cli(['diff', 'ml@main~1', 'ml@main']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Schema changes:');
    expect(res.stdout).toContain('~ column user_id INT32 -> INT64');
    expect(res.stdout).toContain('+ column full_name STRING not null');
    expect(res.stdout).toContain('- column name STRING');
    expect(res.stdout).toContain('rows 1,000 -> 950 (-50)');
  });
});
