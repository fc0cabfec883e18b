/** Schema contracts: parsing at the edge, and every kind of violation, worded for users. */
import { describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import { checkContract, parseContract, type ParquetInfo } from '../../src/parquet/index.js';
import { infoOf, okInfo } from './helpers.js';

function parseError(json: unknown): DatactlError {
  try {
    parseContract(json);
  } catch (err) {
    expect(err).toBeInstanceOf(DatactlError);
    expect((err as DatactlError).code).toBe('E_BAD_REQUEST');
    return err as DatactlError;
  }
  return expect.fail('expected parseContract to throw');
}

describe('parsing a contract', () => {
  it('accepts the documented format and canonicalizes type names', () => {
    expect(parseContract({
      columns: { user_id: { type: 'int64', nullable: false }, amount: { type: 'decimal(18, 3)' }, tags: { type: 'list<string>' } },
      extraColumns: 'deny',
      minRows: 1000,
    })).toEqual({
      columns: { user_id: { type: 'INT64', nullable: false }, amount: { type: 'DECIMAL(18,3)' }, tags: { type: 'LIST<STRING>' } },
      extraColumns: 'deny',
      minRows: 1000,
    });
  });

  it('defaults to no columns and extraColumns "allow"', () => {
    expect(parseContract({ minRows: 1 })).toEqual({ columns: {}, extraColumns: 'allow', minRows: 1 });
    expect(parseContract({})).toEqual({ columns: {}, extraColumns: 'allow' });
  });

  it('rejects anything but an object', () => {
    for (const bad of [null, [], 'INT64', 3]) expect(parseError(bad).message).toBe('invalid schema contract: must be a JSON object');
  });

  it('rejects unknown keys at the top and in a column', () => {
    expect(parseError({ colums: {} }).message).toBe('invalid schema contract: unknown key "colums" (allowed: columns, extraColumns, minRows)');
    expect(parseError({ columns: { a: { type: 'INT64', required: true } } }).message)
      .toBe('invalid schema contract: columns."a": unknown key "required" (allowed: type, nullable)');
  });

  it('rejects unknown and malformed type names with the reason', () => {
    expect(parseError({ columns: { amount: { type: 'DUBLE' } } }).message)
      .toBe('invalid schema contract: columns."amount".type: "DUBLE" is not a type name: unknown type "DUBLE" (did you mean DOUBLE?)');
    expect(parseError({ columns: { d: { type: 'DECIMAL(3,4)' } } }).message).toMatch(/columns\."d"\.type: "DECIMAL\(3,4\)" is not a type name: DECIMAL scale 4 exceeds its precision 3/);
    expect(parseError({ columns: { d: { type: 5 } } }).message).toMatch(/columns\."d"\.type: must be a string/);
  });

  it('rejects wrong value types for nullable, extraColumns, minRows and columns', () => {
    expect(parseError({ columns: { a: { nullable: 'no' } } }).message).toMatch(/columns\."a"\.nullable: must be true or false/);
    expect(parseError({ columns: { a: 'INT64' } }).message).toMatch(/columns\."a": must be an object/);
    expect(parseError({ columns: [] }).message).toMatch(/columns: must be an object/);
    expect(parseError({ extraColumns: 'forbid' }).message).toMatch(/extraColumns: must be "allow" or "deny", got "forbid"/);
    expect(parseError({ minRows: -1 }).message).toMatch(/minRows: must be a non-negative integer, got -1/);
    expect(parseError({ minRows: 1.5 }).message).toMatch(/minRows: must be a non-negative integer, got 1.5/);
  });

  it('lists every problem in one error, also as details', () => {
    const err = parseError({ extra: 1, minRows: 'many', columns: { a: { type: 'NOPE' } } });
    expect(err.details?.problems).toHaveLength(3);
    expect(err.message.split('; ')).toHaveLength(3);
  });
});

describe('checking a file against a contract', () => {
  const path = '/train/a.parquet';

  it('passes a conforming file', async () => {
    const info = await okInfo('arrow-rs/evolution-v1.parquet');
    const contract = parseContract({
      columns: { user_id: { type: 'INT32', nullable: false }, name: { type: 'STRING' }, email: {}, amount: { type: 'DOUBLE', nullable: true } },
      extraColumns: 'deny',
      minRows: 1000,
    });
    expect(checkContract(contract, info, path)).toEqual([]);
  });

  it('lists every violation of one file, each prefixed with its path', async () => {
    const info = await okInfo('arrow-rs/evolution-v2.parquet');
    const contract = parseContract({
      columns: {
        user_id: { type: 'INT32', nullable: false },
        name: { type: 'STRING' },
        email: { nullable: false },
        amount: { type: 'FLOAT' },
      },
      extraColumns: 'deny',
      minRows: 1000,
    });
    expect(checkContract(contract, info, path)).toEqual([
      '/train/a.parquet: column "user_id" has type INT64, expected INT32',
      '/train/a.parquet: column "name" is missing',
      '/train/a.parquet: column "email" is nullable, expected not null',
      '/train/a.parquet: column "amount" has type DOUBLE, expected FLOAT',
      '/train/a.parquet: unexpected column "full_name" (extraColumns: deny)',
      '/train/a.parquet: 950 rows, expected at least 1000',
    ]);
  });

  it('allows extra columns unless denied', async () => {
    const info = await okInfo('duckdb/evolution-v2.parquet');
    expect(checkContract(parseContract({ columns: { user_id: { type: 'INT64' } } }), info, path)).toEqual([]);
  });

  it('checks nested fields by their composite type', async () => {
    const info = await okInfo('duckdb/nested.parquet');
    const contract = parseContract({ columns: { address: { type: 'STRUCT<city: STRING, zip: INT64>' }, attrs: { type: 'map<string, double>' } } });
    expect(checkContract(contract, info, path)).toEqual([
      '/train/a.parquet: column "address" has type STRUCT<city: STRING, zip: INT32>, expected STRUCT<city: STRING, zip: INT64>',
    ]);
  });

  it('canonicalizes type names of contracts built without parseContract', async () => {
    const info = await okInfo('duckdb/types.parquet');
    expect(checkContract({ columns: { dec18: { type: 'decimal(18, 3)' } }, extraColumns: 'allow' }, info, path)).toEqual([]);
  });

  it('flags a file that is not readable Parquet with the reason', async () => {
    const info: ParquetInfo = await infoOf('broken/truncated.parquet');
    const violations = checkContract(parseContract({ minRows: 1 }), info, '/train/bad.parquet');
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/^\/train\/bad\.parquet: not a readable Parquet file: missing PAR1 magic at end of file/);
  });
});
