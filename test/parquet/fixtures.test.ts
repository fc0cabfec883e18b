/**
 * Real files from real writers (test/fixtures/parquet/README.md lists them and the writer
 * versions): every type name, row count, row-group count, codec and a sample of statistics.
 */
import { describe, expect, it } from 'vitest';
import { column, fieldTypes, okInfo } from './helpers.js';

describe('DuckDB files', () => {
  it('names every scalar type DuckDB writes', async () => {
    const info = await okInfo('duckdb/types.parquet');
    expect(fieldTypes(info)).toEqual({
      i32: 'INT32', i64: 'INT64', f32: 'FLOAT', f64: 'DOUBLE', flag: 'BOOLEAN', name: 'STRING', raw: 'BINARY',
      dec18: 'DECIMAL(18,3)', dec38: 'DECIMAL(38,10)', dec9: 'DECIMAL(9,2)', day: 'DATE',
      ts_ms: 'TIMESTAMP(MILLIS)', ts_us: 'TIMESTAMP(MICROS)', ts_ns: 'TIMESTAMP(NANOS)', ts_tz: 'TIMESTAMP(MICROS,UTC)',
      tod: 'TIME(MICROS)', uid: 'UUID', i8: 'INT8', u32: 'UINT32', doc: 'JSON',
    });
    expect(info.fields.every((f) => f.nullable && f.repetition === 'OPTIONAL')).toBe(true);
    expect(info).toMatchObject({ rows: 200, rowGroups: 1, codecs: ['ZSTD'], formatVersion: 1 });
    expect(info.createdBy).toMatch(/^DuckDB version v1\.5\.5/);
  });

  it('keeps the physical storage of each DECIMAL apart from its type name', async () => {
    const info = await okInfo('duckdb/types.parquet');
    expect(column(info, 'dec9').physicalType).toBe('INT32');
    expect(column(info, 'dec18').physicalType).toBe('INT64');
    expect(column(info, 'dec38').physicalType).toBe('FIXED_LEN_BYTE_ARRAY');
    expect(column(info, 'dec38').logicalType).toBe('DECIMAL');
  });

  it('renders statistics exactly: decimals as strings, dates and timestamps as ISO text', async () => {
    const info = await okInfo('duckdb/types.parquet');
    expect(column(info, 'i64').stats).toEqual({ min: -5000000, max: 194000597, nullCount: 0 });
    expect(column(info, 'f64').stats).toEqual({ min: -10, max: 89.5, nullCount: 1 });
    expect(column(info, 'flag').stats).toEqual({ min: false, max: true, nullCount: 0 });
    expect(column(info, 'name').stats).toEqual({ min: 'name-001', max: 'name-199', nullCount: 20 });
    expect(column(info, 'raw').stats).toMatchObject({ min: '0x626c6f622d30' });
    expect(column(info, 'dec18').stats).toEqual({ min: '-100.000', max: '198.500', nullCount: 0 });
    expect(column(info, 'dec38').stats).toEqual({ min: '12345678901234567890.1234567891', max: '12345678901234568089.1234567891', nullCount: 0 });
    expect(column(info, 'day').stats).toMatchObject({ min: '2024-01-01', max: '2024-07-18' });
    expect(column(info, 'ts_ms').stats).toMatchObject({ min: '2024-01-01T00:00:00.000', max: '2024-01-01T00:03:19.199' });
    expect(column(info, 'ts_us').stats).toMatchObject({ max: '2024-01-01T00:03:19.000199' });
    expect(column(info, 'ts_ns').stats).toMatchObject({ max: '2024-01-01T00:03:19.000000199' });
    expect(column(info, 'ts_tz').stats).toMatchObject({ max: '2024-01-01T00:03:19.000199Z' });
    expect(column(info, 'tod').stats).toMatchObject({ min: '12:00:00.000000', max: '12:00:00.000199' });
    expect(column(info, 'uid').stats).toMatchObject({ min: '006f52e9-102a-8d3b-e2fe-5614f42ba989' });
    expect(column(info, 'u32').stats).toMatchObject({ min: 0, max: 597 });
  });

  it('gives LIST, STRUCT and MAP fields composite types and lists their leaves by path', async () => {
    const info = await okInfo('duckdb/nested.parquet');
    expect(fieldTypes(info)).toEqual({
      id: 'INT64',
      tags: 'LIST<INT64>',
      labels: 'LIST<STRING>',
      address: 'STRUCT<city: STRING, zip: INT32>',
      attrs: 'MAP<STRING, DOUBLE>',
      points: 'LIST<STRUCT<x: INT64, y: STRING>>',
      nest: 'STRUCT<inner: LIST<INT32>, deep: STRUCT<z: INT16>>',
    });
    expect(info.columns.map((c) => c.path)).toEqual([
      'id', 'tags.list.element', 'labels.list.element', 'address.city', 'address.zip',
      'attrs.key_value.key', 'attrs.key_value.value', 'points.list.element.x', 'points.list.element.y',
      'nest.inner.list.element', 'nest.deep.z',
    ]);
    expect(column(info, 'attrs.key_value.key')).toMatchObject({ name: 'attrs', type: 'STRING', repetition: 'REQUIRED', nullable: false });
    expect(column(info, 'tags.list.element').stats).toEqual({ min: 1, max: 101, nullCount: 15 });
    expect(info).toMatchObject({ rows: 100, rowGroups: 1, codecs: ['GZIP'] });
  });

  it('reads 12 row groups, aggregating statistics and marking dictionary-encoded columns', async () => {
    const info = await okInfo('duckdb/row-groups.parquet');
    expect(info).toMatchObject({ rows: 24576, rowGroups: 12, codecs: ['SNAPPY'] });
    expect(column(info, 'id').stats).toEqual({ min: 0, max: 24575, nullCount: 0 });
    expect(column(info, 'category')).toMatchObject({ dictionary: true, encodings: ['PLAIN_DICTIONARY'], stats: { min: 'cat-0', max: 'cat-7' } });
    expect(column(info, 'id').dictionary).toBe(false);
    expect(info.compressedBytes).toBe(info.columns.reduce((s, c) => s + c.compressedBytes, 0));
    expect(info.uncompressedBytes).toBeGreaterThan(info.compressedBytes);
  });

  it('reports UNCOMPRESSED files', async () => {
    const info = await okInfo('duckdb/uncompressed.parquet');
    expect(info).toMatchObject({ rows: 50, codecs: ['UNCOMPRESSED'] });
    expect(info.compressedBytes).toBe(info.uncompressedBytes);
  });
});

describe('arrow-rs (parquet-rs) files', () => {
  it('names every scalar type arrow-rs writes, with REQUIRED for non-nullable Arrow fields', async () => {
    const info = await okInfo('arrow-rs/types.parquet');
    expect(fieldTypes(info)).toEqual({
      i32: 'INT32', i64: 'INT64', f32: 'FLOAT', f64: 'DOUBLE', flag: 'BOOLEAN', name: 'STRING', raw: 'BINARY',
      fixed4: 'FIXED_LEN_BYTE_ARRAY(4)', dec9: 'DECIMAL(9,2)', dec18: 'DECIMAL(18,3)', dec38: 'DECIMAL(38,10)', day: 'DATE',
      ts_ms: 'TIMESTAMP(MILLIS,UTC)', ts_us: 'TIMESTAMP(MICROS)', ts_ns: 'TIMESTAMP(NANOS,UTC)', ts_ns_local: 'TIMESTAMP(NANOS)',
      tod: 'TIME(MICROS)', i8: 'INT8', u32: 'UINT32', f16: 'FLOAT16',
    });
    const byName = Object.fromEntries(info.fields.map((f) => [f.name, f]));
    expect(byName.i32).toMatchObject({ repetition: 'REQUIRED', nullable: false });
    expect(byName.f64).toMatchObject({ repetition: 'REQUIRED', nullable: false });
    expect(byName.i64).toMatchObject({ repetition: 'OPTIONAL', nullable: true });
    expect(info).toMatchObject({ rows: 200, rowGroups: 1, codecs: ['SNAPPY'] });
    expect(info.createdBy).toMatch(/parquet-rs/);
  });

  it('decodes unsigned, half-float, nanosecond and 38-digit statistics without rounding', async () => {
    const info = await okInfo('arrow-rs/types.parquet');
    expect(column(info, 'i32').stats).toEqual({ min: -100, max: 99, nullCount: 0 });
    expect(column(info, 'i64').stats).toEqual({ min: 0, max: 1990000000000, nullCount: 1 });
    expect(column(info, 'u32').stats).toMatchObject({ min: 4000000000, max: 4000000199 });
    expect(column(info, 'f16').stats).toMatchObject({ min: 0, max: 24.875 });
    expect(column(info, 'dec38').stats).toMatchObject({ min: '12345678901234567890.1234567891', max: '12345678901234568089.1234567891' });
    expect(column(info, 'ts_ms').stats).toMatchObject({ max: '2024-01-01T00:03:19.199Z' });
    expect(column(info, 'ts_ns').stats).toMatchObject({ max: '2024-01-01T00:03:19.000000199Z' });
    expect(column(info, 'ts_ns_local').stats).toMatchObject({ max: '2024-01-01T00:00:00.000000199' });
    expect(column(info, 'fixed4').stats).toMatchObject({ min: '0x01020300', max: '0x010203c7' });
    expect(column(info, 'name')).toMatchObject({ dictionary: true, stats: { nullCount: 20 } });
  });

  it('gives nested fields composite types and keeps inner REQUIRED leaves', async () => {
    const info = await okInfo('arrow-rs/nested.parquet');
    expect(fieldTypes(info)).toEqual({
      id: 'INT64',
      tags: 'LIST<INT64>',
      labels: 'LIST<STRING>',
      address: 'STRUCT<city: STRING, zip: INT32>',
      attrs: 'MAP<STRING, INT64>',
      points: 'LIST<STRUCT<x: DOUBLE, y: STRING>>',
    });
    expect(info.fields.find((f) => f.name === 'labels')).toMatchObject({ nullable: false });
    expect(column(info, 'address.zip')).toMatchObject({ repetition: 'REQUIRED', nullable: false, name: 'address' });
    expect(column(info, 'tags.list.item').stats).toEqual({ min: 1, max: 100, nullCount: 15 });
    expect(info).toMatchObject({ rows: 100, codecs: ['ZSTD'] });
  });

  it('reads 12 row groups with dictionary on one column and not the other', async () => {
    const info = await okInfo('arrow-rs/row-groups.parquet');
    expect(info).toMatchObject({ rows: 12000, rowGroups: 12, codecs: ['GZIP'] });
    expect(column(info, 'category')).toMatchObject({ dictionary: true, stats: { min: 'cat-0', max: 'cat-7', nullCount: 0 } });
    expect(column(info, 'value')).toMatchObject({ dictionary: false, stats: { min: 0, max: 99.9 } });
    expect(column(info, 'id').stats).toEqual({ min: 0, max: 11999, nullCount: 0 });
  });

  it('omits statistics the writer did not store', async () => {
    const info = await okInfo('arrow-rs/no-stats.parquet');
    expect(info.columns.map((c) => c.stats)).toEqual([undefined, undefined]);
    expect(info).toMatchObject({ rows: 20, codecs: ['UNCOMPRESSED'] });
  });
});

describe('hyparquet-writer files', () => {
  it('reads legacy ConvertedType-only annotations as their canonical names', async () => {
    const info = await okInfo('hyparquet/legacy.parquet');
    expect(fieldTypes(info)).toEqual({ id: 'UINT16', seen: 'TIMESTAMP(MILLIS,UTC)', label: 'STRING', half: 'FLOAT16' });
    expect(column(info, 'seen')).toMatchObject({ logicalType: 'TIMESTAMP_MILLIS', stats: { min: '2024-01-01T00:00:00.000Z', max: '2024-01-01T00:00:29.000Z' } });
    expect(column(info, 'label').stats).toEqual({ min: 'l1', max: 'l9', nullCount: 8 });
  });
});

describe('every fixture', () => {
  it('produces JSON-serializable metadata that round-trips unchanged', async () => {
    for (const rel of ['duckdb/types.parquet', 'duckdb/nested.parquet', 'arrow-rs/types.parquet', 'arrow-rs/nested.parquet', 'hyparquet/legacy.parquet']) {
      const info = await okInfo(rel);
      expect(JSON.parse(JSON.stringify(info))).toEqual(info);
    }
  });
});
