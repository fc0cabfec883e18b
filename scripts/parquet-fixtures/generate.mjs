#!/usr/bin/env node
/**
 * Writes the Parquet fixtures under test/fixtures/parquet/ with real writers, deterministically.
 *
 *   node scripts/parquet-fixtures/generate.mjs            # (re)write every fixture
 *
 * Writers (dev dependencies, pinned in package.json):
 *   duckdb/    DuckDB through @duckdb/node-api (DuckDB's own C++ Parquet writer)
 *   arrow-rs/  arrow-rs / parquet-rs compiled to WebAssembly (parquet-wasm), tables built with apache-arrow
 *   hyparquet/ hyparquet-writer (pure JS), for legacy shapes the other two no longer write
 *   broken/    byte-level damage applied to a valid DuckDB file (bad magic, truncated footer, not Parquet)
 *
 * Every value is computed from the row index (no clocks, no randomness), DuckDB runs on one
 * thread, so running the script twice gives byte-identical files. The fixtures are checked in;
 * tests never run this script. test/fixtures/parquet/README.md (written below) lists the files and
 * the writer versions that made them.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, 'test', 'fixtures', 'parquet');
const written = [];

function save(rel, bytes, note) {
  const file = join(OUT, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  written.push({ rel, size: bytes.length, note, sha: createHash('sha256').update(bytes).digest('hex').slice(0, 16) });
}

const pkgVersion = (name) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

// ---------------------------------------------------------------- DuckDB

async function duckdbFixtures() {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  await con.run(`SET TimeZone = 'UTC'`);
  const copy = async (rel, select, options, note) => {
    const file = join(OUT, rel);
    mkdirSync(dirname(file), { recursive: true });
    await con.run(`COPY (${select}) TO '${file}' (FORMAT parquet, ${options})`);
    const bytes = readFileSync(file);
    written.push({ rel, size: bytes.length, note, sha: createHash('sha256').update(bytes).digest('hex').slice(0, 16) });
  };

  // Every scalar type DuckDB maps to Parquet. DuckDB writes every column OPTIONAL.
  await copy('duckdb/types.parquet', `
    SELECT
      i::INTEGER AS i32,
      (i * 1000003 - 5000000)::BIGINT AS i64,
      (i / 4)::FLOAT AS f32,
      CASE WHEN i = 7 THEN NULL ELSE (i * 0.5 - 10)::DOUBLE END AS f64,
      i % 2 = 0 AS flag,
      CASE WHEN i % 10 = 0 THEN NULL ELSE 'name-' || lpad(i::VARCHAR, 3, '0') END AS name,
      encode('blob-' || i) AS raw,
      (i * 1.5 - 100)::DECIMAL(18,3) AS dec18,
      ('12345678901234567890.1234567891'::DECIMAL(38,10) + i) AS dec38,
      (i * 0.25)::DECIMAL(9,2) AS dec9,
      DATE '2024-01-01' + i::INTEGER AS day,
      (TIMESTAMP '2024-01-01 00:00:00' + to_milliseconds(i * 1001))::TIMESTAMP_MS AS ts_ms,
      TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(i * 1000001) AS ts_us,
      make_timestamp_ns(1704067200000000000 + i * 1000000001) AS ts_ns,
      (TIMESTAMP '2024-01-01 00:00:00' + to_microseconds(i * 1000001))::TIMESTAMPTZ AS ts_tz,
      TIME '12:00:00' + to_microseconds(i) AS tod,
      md5(i::VARCHAR)::UUID AS uid,
      (i % 100 - 50)::TINYINT AS i8,
      (i * 3)::UINTEGER AS u32,
      json_object('k', i) AS doc
    FROM range(200) r(i)`, 'COMPRESSION zstd', 'scalar types, ZSTD');

  // Nested: LIST, STRUCT, MAP and their combinations.
  await copy('duckdb/nested.parquet', `
    SELECT
      i::BIGINT AS id,
      CASE WHEN i % 7 = 0 THEN NULL ELSE [i, i + 1, i + 2] END AS tags,
      ['a' || i, NULL] AS labels,
      {'city': 'city-' || (i % 5), 'zip': (10000 + i)::INTEGER} AS address,
      MAP {'k' || (i % 3): i::DOUBLE} AS attrs,
      [{'x': i, 'y': 'v' || i}] AS points,
      {'inner': [i::INTEGER], 'deep': {'z': i::SMALLINT}} AS nest
    FROM range(100) r(i)`, 'COMPRESSION gzip', 'LIST, STRUCT, MAP, nested combinations, GZIP');

  // Many row groups: 12 x 2048 rows, dictionary-encoded strings, SNAPPY.
  await copy('duckdb/row-groups.parquet', `
    SELECT
      i::BIGINT AS id,
      'cat-' || (i % 8) AS category,
      ((i % 1000) / 10.0)::DOUBLE AS value
    FROM range(24576) r(i)`, 'COMPRESSION snappy, ROW_GROUP_SIZE 2048', '12 row groups, dictionary, SNAPPY');

  await copy('duckdb/uncompressed.parquet', `
    SELECT i::INTEGER AS id, 'row ' || i AS label FROM range(50) r(i)`,
  'COMPRESSION uncompressed', 'UNCOMPRESSED');

  // Schema evolution: user_id INTEGER -> BIGINT, name renamed full_name, country added, 1000 -> 900 rows.
  await copy('duckdb/evolution-v1.parquet', `
    SELECT i::INTEGER AS user_id, 'user ' || i AS name, (i * 2.5)::DOUBLE AS amount
    FROM range(1000) r(i)`, 'COMPRESSION zstd', 'evolution v1');
  await copy('duckdb/evolution-v2.parquet', `
    SELECT i::BIGINT AS user_id, 'user ' || i AS full_name, (i * 2.5)::DOUBLE AS amount,
           CASE WHEN i % 2 = 0 THEN 'NL' ELSE 'DE' END AS country
    FROM range(900) r(i)`, 'COMPRESSION zstd', 'evolution v2');

  const version = (await (await con.runAndReadAll('SELECT version()')).getRows())[0][0];
  con.closeSync?.();
  return `DuckDB ${version} via @duckdb/node-api ${pkgVersion('@duckdb/node-api')}`;
}

// ---------------------------------------------------------------- arrow-rs (parquet-wasm)

function arrowHelpers(A) {
  const range = (n, f) => Array.from({ length: n }, (_, i) => f(i));
  const field = (name, type, nullable = true) => new A.Field(name, type, nullable);
  // Builders take JS numbers for timestamps; sub-millisecond values need raw BigInt64 data.
  const int64s = (type, n, f) => A.makeVector(A.makeData({ type, length: n, data: BigInt64Array.from(range(n, f)) }));
  const decimals = (precision, scale, n, f) => {
    const words = new Uint32Array(n * 4);
    for (let i = 0; i < n; i++) {
      const v = BigInt.asUintN(128, f(i));
      for (let w = 0; w < 4; w++) words[i * 4 + w] = Number((v >> BigInt(32 * w)) & 0xffffffffn);
    }
    return A.makeVector(A.makeData({ type: new A.Decimal(scale, precision, 128), length: n, data: words }));
  };
  // A vector whose Arrow field is declared non-nullable -> Parquet REQUIRED.
  const table = (columns) => {
    const fields = [];
    const vectors = {};
    for (const [name, vector, nullable = true] of columns) {
      fields.push(field(name, vector.type, nullable));
      vectors[name] = vector;
    }
    const batch = new A.RecordBatch(new A.Schema(fields), A.makeData({
      type: new A.Struct(fields),
      length: Object.values(vectors)[0].length,
      nullCount: 0,
      children: Object.values(vectors).map((v) => v.data[0]),
    }));
    return new A.Table([batch]);
  };
  return { range, field, int64s, decimals, table };
}

async function arrowFixtures() {
  const A = await import('apache-arrow');
  const PW = await import('parquet-wasm');
  const { range, field, int64s, decimals, table } = arrowHelpers(A);
  let createdBy = 'parquet-rs';
  const write = (rel, t, configure, note) => {
    const properties = configure(new PW.WriterPropertiesBuilder()).build();
    const bytes = Buffer.from(PW.writeParquet(PW.Table.fromIPCStream(A.tableToIPC(t, 'stream')), properties));
    createdBy = /parquet-rs version [0-9.]+/.exec(bytes.toString('latin1'))?.[0] ?? createdBy;
    save(rel, bytes, note);
  };
  const C = PW.Compression;
  const jan1 = BigInt(Date.UTC(2024, 0, 1));

  const n = 200;
  write('arrow-rs/types.parquet', table([
    ['i32', A.vectorFromArray(range(n, (i) => i - 100), new A.Int32()), false],
    ['i64', A.vectorFromArray(range(n, (i) => (i === 3 ? null : BigInt(i) * 10_000_000_000n)), new A.Int64())],
    ['f32', A.vectorFromArray(range(n, (i) => i / 4), new A.Float32())],
    ['f64', A.vectorFromArray(range(n, (i) => i * 0.5 - 10), new A.Float64()), false],
    ['flag', A.vectorFromArray(range(n, (i) => i % 3 === 0), new A.Bool())],
    ['name', A.vectorFromArray(range(n, (i) => (i % 10 === 0 ? null : `name-${String(i).padStart(3, '0')}`)), new A.Utf8())],
    ['raw', A.vectorFromArray(range(n, (i) => Uint8Array.of(0xab, i & 0xff)), new A.Binary())],
    ['fixed4', A.vectorFromArray(range(n, (i) => Uint8Array.of(1, 2, 3, i & 0xff)), new A.FixedSizeBinary(4))],
    ['dec9', decimals(9, 2, n, (i) => BigInt(i) * 25n)],
    ['dec18', decimals(18, 3, n, (i) => BigInt(i) * 1500n - 100000n)],
    ['dec38', decimals(38, 10, n, (i) => 123456789012345678901234567891n + BigInt(i) * 10_000_000_000n)],
    ['day', A.vectorFromArray(range(n, (i) => new Date(Date.UTC(2024, 0, 1 + i))), new A.DateDay())],
    ['ts_ms', int64s(new A.TimestampMillisecond('UTC'), n, (i) => jan1 + BigInt(i) * 1001n)],
    ['ts_us', int64s(new A.TimestampMicrosecond(), n, (i) => jan1 * 1000n + BigInt(i) * 1_000_001n)],
    ['ts_ns', int64s(new A.TimestampNanosecond('UTC'), n, (i) => jan1 * 1_000_000n + BigInt(i) * 1_000_000_001n)],
    ['ts_ns_local', int64s(new A.TimestampNanosecond(), n, (i) => jan1 * 1_000_000n + BigInt(i))],
    ['tod', int64s(new A.TimeMicrosecond(), n, (i) => 43_200_000_000n + BigInt(i))],
    ['i8', A.vectorFromArray(range(n, (i) => (i % 100) - 50), new A.Int8())],
    ['u32', A.vectorFromArray(range(n, (i) => 4_000_000_000 + i), new A.Uint32())],
    ['f16', A.vectorFromArray(range(n, (i) => i / 8), new A.Float16())],
  ]), (b) => b.setCompression(C.SNAPPY), 'scalar types, REQUIRED and OPTIONAL, SNAPPY');

  const m = 100;
  const kv = new A.Struct([field('key', new A.Utf8(), false), field('value', new A.Int64())]);
  write('arrow-rs/nested.parquet', table([
    ['id', A.vectorFromArray(range(m, (i) => BigInt(i)), new A.Int64()), false],
    ['tags', A.vectorFromArray(range(m, (i) => (i % 7 === 0 ? null : [BigInt(i), BigInt(i + 1)])), new A.List(field('item', new A.Int64())))],
    ['labels', A.vectorFromArray(range(m, (i) => [`a${i}`]), new A.List(field('item', new A.Utf8(), false))), false],
    ['address', A.vectorFromArray(range(m, (i) => ({ city: `city-${i % 5}`, zip: 10000 + i })),
      new A.Struct([field('city', new A.Utf8()), field('zip', new A.Int32(), false)]))],
    ['attrs', A.vectorFromArray(range(m, (i) => new Map([[`k${i % 3}`, BigInt(i)]])), new A.Map_(field('entries', kv, false)))],
    ['points', A.vectorFromArray(range(m, (i) => [{ x: i * 1.5, y: `v${i}` }]),
      new A.List(field('item', new A.Struct([field('x', new A.Float64()), field('y', new A.Utf8())]))))],
  ]), (b) => b.setCompression(C.ZSTD), 'LIST, STRUCT, MAP, ZSTD');

  const rows = 12_000;
  write('arrow-rs/row-groups.parquet', table([
    ['id', A.vectorFromArray(range(rows, (i) => BigInt(i)), new A.Int64()), false],
    ['category', A.vectorFromArray(range(rows, (i) => `cat-${i % 8}`), new A.Utf8())],
    ['value', A.vectorFromArray(range(rows, (i) => (i % 1000) / 10), new A.Float64())],
  ]), (b) => b.setCompression(C.GZIP).setMaxRowGroupSize(1000).setColumnDictionaryEnabled('value', false),
  '12 row groups, dictionary on category only, GZIP');

  write('arrow-rs/no-stats.parquet', table([
    ['id', A.vectorFromArray(range(20, (i) => i), new A.Int32()), false],
    ['label', A.vectorFromArray(range(20, (i) => `row ${i}`), new A.Utf8())],
  ]), (b) => b.setCompression(C.UNCOMPRESSED).setStatisticsEnabled(PW.EnabledStatistics.None),
  'statistics disabled, UNCOMPRESSED');

  // Schema evolution: user_id Int32 -> Int64, name renamed full_name, email made nullable, 1000 -> 950 rows.
  write('arrow-rs/evolution-v1.parquet', table([
    ['user_id', A.vectorFromArray(range(1000, (i) => i), new A.Int32()), false],
    ['name', A.vectorFromArray(range(1000, (i) => `user ${i}`), new A.Utf8()), false],
    ['email', A.vectorFromArray(range(1000, (i) => `u${i}@example.org`), new A.Utf8()), false],
    ['amount', A.vectorFromArray(range(1000, (i) => i * 2.5), new A.Float64())],
  ]), (b) => b.setCompression(C.SNAPPY), 'evolution v1');
  write('arrow-rs/evolution-v2.parquet', table([
    ['user_id', A.vectorFromArray(range(950, (i) => BigInt(i)), new A.Int64()), false],
    ['full_name', A.vectorFromArray(range(950, (i) => `user ${i}`), new A.Utf8()), false],
    ['email', A.vectorFromArray(range(950, (i) => (i % 10 === 0 ? null : `u${i}@example.org`)), new A.Utf8())],
    ['amount', A.vectorFromArray(range(950, (i) => i * 2.5), new A.Float64())],
  ]), (b) => b.setCompression(C.SNAPPY), 'evolution v2');

  return `${createdBy} as built into parquet-wasm ${pkgVersion('parquet-wasm')}, tables from apache-arrow ${pkgVersion('apache-arrow')}`;
}

// ---------------------------------------------------------------- hyparquet-writer

async function hyparquetFixtures() {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const n = 30;
  const range = (f) => Array.from({ length: n }, (_, i) => f(i));
  // Legacy annotations: converted types only (no LogicalType), as older Spark/parquet-mr wrote.
  const bytes = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: range((i) => i) },
      { name: 'seen', data: range((i) => BigInt(Date.UTC(2024, 0, 1) + i * 1000)) },
      { name: 'label', data: range((i) => (i % 4 === 0 ? null : `l${i}`)) },
      { name: 'half', data: range((i) => i / 2) },
    ],
    schema: [
      { name: 'root', num_children: 4 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED', converted_type: 'UINT_16' },
      { name: 'seen', type: 'INT64', repetition_type: 'REQUIRED', converted_type: 'TIMESTAMP_MILLIS' },
      { name: 'label', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL', converted_type: 'UTF8' },
      { name: 'half', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 2, repetition_type: 'REQUIRED', logical_type: { type: 'FLOAT16' } },
    ],
    codec: 'UNCOMPRESSED',
    createdBy: `hyparquet-writer ${pkgVersion('hyparquet-writer')}`,
  });
  save('hyparquet/legacy.parquet', Buffer.from(bytes), 'converted types only (UINT_16, TIMESTAMP_MILLIS, UTF8), FLOAT16');
  return `hyparquet-writer ${pkgVersion('hyparquet-writer')}`;
}

// ---------------------------------------------------------------- damaged files

function brokenFixtures() {
  const valid = readFileSync(join(OUT, 'duckdb', 'uncompressed.parquet'));
  const footerLength = valid.readUInt32LE(valid.length - 8);

  const badMagic = Buffer.from(valid);
  badMagic.write('PAR0', badMagic.length - 4, 'latin1');
  save('broken/bad-magic.parquet', badMagic, 'valid file whose trailing magic is PAR0');

  // Cut in the middle of the footer: the metadata is half there, length and magic are gone.
  const truncated = valid.subarray(0, valid.length - 8 - Math.floor(footerLength / 2));
  save('broken/truncated.parquet', Buffer.from(truncated), `cut ${8 + Math.floor(footerLength / 2)} bytes short, inside the footer`);

  save('broken/not-parquet.parquet', Buffer.from('id,name\n1,alice\n2,bob\n'), 'a CSV file named .parquet');
}

// ---------------------------------------------------------------- main

function writeReadme(writers) {
  const lines = [
    '# Parquet fixtures',
    '',
    'Generated by `node scripts/parquet-fixtures/generate.mjs`; do not edit by hand. Deterministic:',
    're-running the script reproduces these bytes with the writer versions below.',
    '',
    'Writers:',
    '',
    ...writers.map((w) => `- ${w}`),
    '',
    '| file | bytes | sha256 (first 16) | what it covers |',
    '| --- | ---: | --- | --- |',
    ...written.map((f) => `| ${f.rel} | ${f.size} | ${f.sha} | ${f.note} |`),
    '',
  ];
  writeFileSync(join(OUT, 'README.md'), lines.join('\n'));
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const writers = [await duckdbFixtures(), await arrowFixtures(), await hyparquetFixtures()];
brokenFixtures();
writeReadme(writers);
const total = written.reduce((s, f) => s + f.size, 0);
console.log(`wrote ${written.length} fixtures (${total} bytes) under ${relative(ROOT, OUT)}`);
