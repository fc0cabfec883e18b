/**
 * Workload (e): a multi-row-group Parquet file written by DuckDB from generated SQL. Every value
 * is a function of the row index and the seed (DuckDB's hash), and DuckDB runs on one thread, so
 * the file is the same bytes every time. The row count is calibrated on a small sample to land
 * near the requested size, since bytes per row depend on DuckDB's encodings and compression.
 */
import { rm, stat } from 'node:fs/promises';

export interface ParquetSpec {
  seed: number;
  bytes: number;
  rowGroupSize: number;
}

export interface ParquetMeta {
  rows: number;
  bytes: number;
  rowGroups: number;
  writer: string;
}

const CALIBRATION_ROWS = 500_000;
const WORDS = ['late', 'delivery', 'refund', 'customer', 'order', 'item', 'missing', 'damaged', 'great', 'service', 'slow', 'fast', 'price', 'quality', 'box', 'driver', 'again', 'never', 'perfect', 'broken', 'support', 'return', 'size', 'colour', 'cheap', 'thanks', 'week', 'today', 'store', 'parcel'];
const CATEGORIES = ['books', 'games', 'music', 'garden', 'tools', 'toys', 'grocery', 'health', 'beauty', 'sports', 'auto', 'baby'];
const STATUSES = ['delivered', 'delivered', 'delivered', 'shipped', 'pending', 'refunded', 'cancelled'];

const sqlList = (items: readonly string[]) => `[${items.map((s) => `'${s}'`).join(', ')}]`;

/** The SELECT producing `rows` rows; column `k` draws from hash(i, k, seed). */
function selectSql(seed: number, rows: number): string {
  const h = (k: number) => `hash(i * 16 + ${k} + ${seed} * 1000003)`;
  const pick = (items: readonly string[], k: number) => `${sqlList(items)}[(${h(k)} % ${items.length})::INTEGER + 1]`;
  const words = [8, 9, 10, 11, 12, 13].map((k) => pick(WORDS, k)).join(', ');
  return `SELECT
      i AS event_id,
      TIMESTAMP '2024-01-01' + to_milliseconds((i * 37 + ${h(1)} % 1000)::BIGINT) AS ts,
      (${h(2)} % 2000000)::INTEGER AS user_id,
      md5((i * 7919 + ${seed})::VARCHAR) AS session,
      ((${h(3)} % 5000000) / 100.0)::DECIMAL(12, 2) AS amount,
      ((${h(4)} % 18000000) / 100000.0 - 90)::DOUBLE AS lat,
      ((${h(5)} % 36000000) / 100000.0 - 180)::DOUBLE AS lon,
      ${pick(CATEGORIES, 6)} AS category,
      ${pick(STATUSES, 7)} AS status,
      concat_ws(' ', ${words}) AS comment
    FROM range(${rows}) t(i)`;
}

async function copyToParquet(path: string, seed: number, rows: number, rowGroupSize: number): Promise<string> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await db.connect();
  try {
    await con.run(`COPY (${selectSql(seed, rows)}) TO '${path.replace(/'/g, "''")}' (FORMAT PARQUET, ROW_GROUP_SIZE ${rowGroupSize})`);
    const version = (await con.runAndReadAll('SELECT version()')).getRows()[0]![0];
    return `DuckDB ${String(version)}`;
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/** Write the dataset to `path`, sized near `spec.bytes`. */
export async function generateParquet(spec: ParquetSpec, path: string): Promise<ParquetMeta> {
  const sample = `${path}.calibrate`;
  await copyToParquet(sample, spec.seed, CALIBRATION_ROWS, spec.rowGroupSize);
  const perRow = (await stat(sample)).size / CALIBRATION_ROWS;
  await rm(sample);
  const rows = Math.max(spec.rowGroupSize, Math.round(spec.bytes / perRow));
  const writer = await copyToParquet(path, spec.seed, rows, spec.rowGroupSize);
  const bytes = (await stat(path)).size;
  return { rows, bytes, rowGroups: Math.ceil(rows / spec.rowGroupSize), writer };
}
