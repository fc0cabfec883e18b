/**
 * hyparquet's FileMetaData (plus the raw Thrift object, for exact statistics bytes) -> ParquetOk.
 * Pure. Structural inconsistencies raise FooterError with a message for ParquetBad.error.
 */
import type { ColumnChunk, FileMetaData } from 'hyparquet';
import {
  FooterError, leaves, repetitionOf, scalarType, schemaTree, topLevelField,
  type ColumnInfo, type ParquetOk, type SchemaNode,
} from './schema.js';
import { aggregateStats, rawChunkStats } from './stats.js';
import { formatType } from './type-names.js';

type Thrift = Record<string, unknown>;

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

function toSafeNumber(v: bigint | number | undefined, what: string): number {
  const n = Number(v ?? 0);
  if (!Number.isSafeInteger(n) || n < 0) throw new FooterError(`${what} is not a valid count: ${typeof v === 'object' ? 'not a number' : String(v)}`);
  return n;
}

export function normalizeMetadata(meta: FileMetaData, raw: Thrift): ParquetOk {
  const root = schemaTree(meta.schema);
  const leafList = leaves(root);
  const rawGroups = (raw.field_4 as Thrift[] | undefined) ?? [];
  meta.row_groups.forEach((rg, i) => {
    if (rg.columns.length !== leafList.length) {
      throw new FooterError(`row group ${i} has ${rg.columns.length} column chunks but the schema has ${leafList.length} leaf columns`);
    }
  });
  const columns = leafList.map(({ node, path }, col) => leafInfo(node, path, col, meta, rawGroups));
  return {
    ok: true,
    rows: toSafeNumber(meta.num_rows, 'num_rows'),
    rowGroups: meta.row_groups.length,
    ...(meta.created_by ? { createdBy: meta.created_by } : {}),
    formatVersion: meta.version,
    footerBytes: meta.metadata_length,
    fields: root.children.map(topLevelField),
    columns,
    compressedBytes: columns.reduce((s, c) => s + c.compressedBytes, 0),
    uncompressedBytes: columns.reduce((s, c) => s + c.uncompressedBytes, 0),
    codecs: sorted(columns.flatMap((c) => c.codecs)),
  };
}

function chunkMeta(chunk: ColumnChunk, rg: number, col: number) {
  if (!chunk.meta_data) {
    const why = chunk.encrypted_column_metadata ? 'is encrypted' : chunk.file_path ? `lives in another file (${JSON.stringify(chunk.file_path)})` : 'is missing';
    throw new FooterError(`metadata of column chunk ${col} in row group ${rg} ${why}`);
  }
  return chunk.meta_data;
}

function leafInfo(node: SchemaNode, path: string[], col: number, meta: FileMetaData, rawGroups: Thrift[]): ColumnInfo {
  const e = node.element;
  const chunks = meta.row_groups.map((rg, i) => chunkMeta(rg.columns[col]!, i, col));
  const rawStats = rawGroups.map((g) => {
    const rawChunk = (g.field_1 as Thrift[] | undefined)?.[col];
    return rawChunkStats((rawChunk?.field_3 as Thrift | undefined) ?? {});
  });
  const stats = aggregateStats(e, rawStats);
  const repetition = repetitionOf(e);
  const logicalType = e.logical_type?.type ?? e.converted_type;
  return {
    path: path.join('.'),
    name: path[0]!,
    type: formatType(scalarType(e)),
    physicalType: e.type!,
    ...(logicalType ? { logicalType } : {}),
    repetition,
    nullable: repetition === 'OPTIONAL',
    ...(stats ? { stats } : {}),
    codecs: sorted(chunks.map((c) => c.codec ?? 'UNKNOWN')),
    encodings: sorted(chunks.flatMap((c) => c.encodings ?? []).map((x) => x ?? 'UNKNOWN')),
    dictionary: chunks.length > 0 && chunks.every((c) => c.encodings?.some((x) => x?.endsWith('_DICTIONARY')) ?? false),
    compressedBytes: chunks.reduce((s, c) => s + toSafeNumber(c.total_compressed_size, 'total_compressed_size'), 0),
    uncompressedBytes: chunks.reduce((s, c) => s + toSafeNumber(c.total_uncompressed_size, 'total_uncompressed_size'), 0),
  };
}
