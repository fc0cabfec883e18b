/** Human output for Parquet metadata and schema changes (`inspect file`, `diff`). */
import type { ColumnInfo, ParquetInfo, SchemaChange, StatValue } from '../src/parquet/index.js';
import { formatFields, formatTable } from './output.js';
import { formatBytes } from './progress.js';

export function formatParquet(info: ParquetInfo): string {
  if (!info.ok) return formatFields([['Parquet', `not readable: ${info.error}`]]);
  const summary = formatFields([
    ['Rows', info.rows.toLocaleString('en-US')],
    ['Row groups', String(info.rowGroups)],
    ['Columns', `${info.fields.length} fields, ${info.columns.length} leaf columns`],
    ['Codecs', info.codecs.join(', ') || '-'],
    ['Compressed', `${formatBytes(info.compressedBytes)} (${formatBytes(info.uncompressedBytes)} uncompressed)`],
    ['Created by', info.createdBy ?? '-'],
  ]);
  const fields = formatTable(info.fields, [
    { header: 'FIELD', value: (f) => f.name },
    { header: 'TYPE', value: (f) => f.type },
    { header: 'NULLABLE', value: (f) => (f.nullable ? 'yes' : 'no') },
  ]);
  const stats = formatTable(info.columns, [
    { header: 'COLUMN', value: (c) => c.path },
    { header: 'NULLS', value: (c) => stat(c.stats?.nullCount), align: 'right' },
    { header: 'MIN', value: (c) => stat(c.stats?.min) },
    { header: 'MAX', value: (c) => stat(c.stats?.max) },
    { header: 'ENCODING', value: (c) => encoding(c) },
  ]);
  return `${summary}\n\n${fields}\n\n${stats}`;
}

function encoding(c: ColumnInfo): string {
  return `${c.dictionary ? 'dictionary, ' : ''}${c.codecs.join('/')}`;
}

const MAX_CELL = 40;

function stat(v: StatValue | undefined): string {
  if (v === undefined) return '-';
  const s = String(v);
  return s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s;
}

/** One line per kind of schema change, indented under the file's diff row. */
export function formatSchemaChange(change: SchemaChange): string[] {
  const lines: string[] = [];
  for (const c of change.addedColumns) lines.push(`+ column ${c.name} ${c.type}${c.nullable ? '' : ' not null'}`);
  for (const c of change.removedColumns) lines.push(`- column ${c.name} ${c.type}`);
  for (const c of change.retypedColumns) lines.push(`~ column ${c.name} ${c.from} -> ${c.to}`);
  for (const c of change.nullabilityChanged) lines.push(`~ column ${c.name} ${c.from ? 'nullable' : 'not null'} -> ${c.to ? 'nullable' : 'not null'}`);
  if (change.rowDelta !== 0) lines.push(`rows ${change.rowsBefore.toLocaleString('en-US')} -> ${change.rowsAfter.toLocaleString('en-US')} (${change.rowDelta > 0 ? '+' : ''}${change.rowDelta.toLocaleString('en-US')})`);
  return lines;
}
