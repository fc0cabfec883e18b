/** Schema diffs on real evolution pairs written by DuckDB and arrow-rs. */
import { describe, expect, it } from 'vitest';
import { diffSchemas } from '../../src/parquet/index.js';
import { okInfo } from './helpers.js';

describe('schema diff', () => {
  it('shows a rename as removed + added, a widened INT32 -> INT64 and rows removed (DuckDB)', async () => {
    const change = diffSchemas(await okInfo('duckdb/evolution-v1.parquet'), await okInfo('duckdb/evolution-v2.parquet'));
    expect(change).toEqual({
      addedColumns: [
        { name: 'full_name', type: 'STRING', nullable: true },
        { name: 'country', type: 'STRING', nullable: true },
      ],
      removedColumns: [{ name: 'name', type: 'STRING', nullable: true }],
      retypedColumns: [{ name: 'user_id', from: 'INT32', to: 'INT64' }],
      nullabilityChanged: [],
      hasSchemaChanges: true,
      rowsBefore: 1000,
      rowsAfter: 900,
      rowDelta: -100,
    });
  });

  it('shows a column made nullable, a widened type and a rename (arrow-rs)', async () => {
    const change = diffSchemas(await okInfo('arrow-rs/evolution-v1.parquet'), await okInfo('arrow-rs/evolution-v2.parquet'));
    expect(change).toEqual({
      addedColumns: [{ name: 'full_name', type: 'STRING', nullable: false }],
      removedColumns: [{ name: 'name', type: 'STRING', nullable: false }],
      retypedColumns: [{ name: 'user_id', from: 'INT32', to: 'INT64' }],
      nullabilityChanged: [{ name: 'email', from: false, to: true }],
      hasSchemaChanges: true,
      rowsBefore: 1000,
      rowsAfter: 950,
      rowDelta: -50,
    });
  });

  it('reports the reverse direction symmetrically', async () => {
    const change = diffSchemas(await okInfo('arrow-rs/evolution-v2.parquet'), await okInfo('arrow-rs/evolution-v1.parquet'));
    expect(change.retypedColumns).toEqual([{ name: 'user_id', from: 'INT64', to: 'INT32' }]);
    expect(change.nullabilityChanged).toEqual([{ name: 'email', from: true, to: false }]);
    expect(change.rowDelta).toBe(50);
  });

  it('finds no schema change between a file and itself', async () => {
    const info = await okInfo('duckdb/nested.parquet');
    const change = diffSchemas(info, info);
    expect(change).toMatchObject({ hasSchemaChanges: false, addedColumns: [], removedColumns: [], retypedColumns: [], nullabilityChanged: [], rowDelta: 0 });
  });

  it('treats a new file as all columns added and a deleted one as all removed', async () => {
    const info = await okInfo('duckdb/uncompressed.parquet');
    expect(diffSchemas(undefined, info)).toMatchObject({
      addedColumns: [{ name: 'id', type: 'INT32', nullable: true }, { name: 'label', type: 'STRING', nullable: true }],
      removedColumns: [], hasSchemaChanges: true, rowsBefore: 0, rowsAfter: 50, rowDelta: 50,
    });
    expect(diffSchemas(info, undefined)).toMatchObject({ addedColumns: [], removedColumns: [{ name: 'id' }, { name: 'label' }], rowDelta: -50 });
    expect(diffSchemas(undefined, undefined)).toMatchObject({ hasSchemaChanges: false, rowDelta: 0 });
  });

  it('compares nested fields by their composite type', async () => {
    const duck = await okInfo('duckdb/nested.parquet');
    const arrow = await okInfo('arrow-rs/nested.parquet');
    const change = diffSchemas(duck, arrow);
    expect(change.retypedColumns).toEqual([
      { name: 'attrs', from: 'MAP<STRING, DOUBLE>', to: 'MAP<STRING, INT64>' },
      { name: 'points', from: 'LIST<STRUCT<x: INT64, y: STRING>>', to: 'LIST<STRUCT<x: DOUBLE, y: STRING>>' },
    ]);
    expect(change.removedColumns.map((c) => c.name)).toEqual(['nest']);
    expect(change.nullabilityChanged).toEqual([
      { name: 'id', from: true, to: false },
      { name: 'labels', from: true, to: false },
    ]);
  });
});
