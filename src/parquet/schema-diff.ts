/**
 * Schema diff between two versions of a Parquet file, by top-level field name. Pure.
 * A rename is a removed field plus an added one (Parquet has no field identity across files we
 * could trust). Pass `undefined` for a side where the file is absent (added or deleted).
 */
import type { FieldInfo, ParquetOk } from './schema.js';

export interface ColumnSummary {
  name: string;
  type: string;
  nullable: boolean;
}

export interface SchemaChange {
  addedColumns: ColumnSummary[];
  removedColumns: ColumnSummary[];
  retypedColumns: { name: string; from: string; to: string }[];
  nullabilityChanged: { name: string; from: boolean; to: boolean }[];
  /** True when any of the four lists above is non-empty. */
  hasSchemaChanges: boolean;
  rowsBefore: number;
  rowsAfter: number;
  rowDelta: number;
}

const summary = (f: FieldInfo): ColumnSummary => ({ name: f.name, type: f.type, nullable: f.nullable });

function byName(fields: FieldInfo[]): Map<string, FieldInfo> {
  const map = new Map<string, FieldInfo>();
  for (const f of fields) if (!map.has(f.name)) map.set(f.name, f);
  return map;
}

export function diffSchemas(a: ParquetOk | undefined, b: ParquetOk | undefined): SchemaChange {
  const before = byName(a?.fields ?? []);
  const after = byName(b?.fields ?? []);
  const change: SchemaChange = {
    addedColumns: [...after.values()].filter((f) => !before.has(f.name)).map(summary),
    removedColumns: [...before.values()].filter((f) => !after.has(f.name)).map(summary),
    retypedColumns: [],
    nullabilityChanged: [],
    hasSchemaChanges: false,
    rowsBefore: a?.rows ?? 0,
    rowsAfter: b?.rows ?? 0,
    rowDelta: (b?.rows ?? 0) - (a?.rows ?? 0),
  };
  for (const f of after.values()) {
    const old = before.get(f.name);
    if (!old) continue;
    if (old.type !== f.type) change.retypedColumns.push({ name: f.name, from: old.type, to: f.type });
    if (old.nullable !== f.nullable) change.nullabilityChanged.push({ name: f.name, from: old.nullable, to: f.nullable });
  }
  change.hasSchemaChanges = change.addedColumns.length + change.removedColumns.length
    + change.retypedColumns.length + change.nullabilityChanged.length > 0;
  return change;
}
