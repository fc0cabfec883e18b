/**
 * The normalized, JSON-serializable model of a Parquet footer, and the mapping from Parquet's
 * flat schema list (physical type + converted/logical annotations) to canonical type names.
 * Pure: no I/O. See docs/parquet.md for the type names and how nested fields are named.
 */
import type { SchemaElement } from 'hyparquet';
import { formatType, type TimeUnit, type TypeNode } from './type-names.js';

export type Repetition = 'REQUIRED' | 'OPTIONAL' | 'REPEATED';
export type StatValue = string | number | boolean;

/** Statistics aggregated over all row groups; a key is absent when any row group lacks it. */
export interface ColumnStats {
  min?: StatValue;
  max?: StatValue;
  nullCount?: number;
}

/** A top-level field: what contracts and schema diffs talk about. */
export interface FieldInfo {
  name: string;
  /** Canonical type name; nested fields get a composite type, e.g. `STRUCT<city: STRING, zip: INT32>`. */
  type: string;
  repetition: Repetition;
  /** OPTIONAL fields are nullable; REQUIRED and REPEATED ones are not. */
  nullable: boolean;
}

/** A leaf column (one column chunk per row group): what inspect shows in detail. */
export interface ColumnInfo {
  /** Dotted path of the leaf in the Parquet schema, e.g. `address.city`, `tags.list.element`. */
  path: string;
  /** The top-level field this leaf belongs to. */
  name: string;
  /** Canonical type name of the leaf value (never composite). */
  type: string;
  physicalType: string;
  /** The annotation as stored: a LogicalType name (`DECIMAL`, `TIMESTAMP`...) or else a legacy ConvertedType. */
  logicalType?: string;
  repetition: Repetition;
  nullable: boolean;
  stats?: ColumnStats;
  codecs: string[];
  encodings: string[];
  /** Every column chunk of this leaf has a dictionary page. */
  dictionary: boolean;
  compressedBytes: number;
  uncompressedBytes: number;
}

export interface ParquetOk {
  ok: true;
  rows: number;
  rowGroups: number;
  createdBy?: string;
  formatVersion: number;
  /** Length of the Thrift-encoded footer (FileMetaData), excluding the 8-byte length + magic. */
  footerBytes: number;
  fields: FieldInfo[];
  columns: ColumnInfo[];
  compressedBytes: number;
  uncompressedBytes: number;
  codecs: string[];
}

export interface ParquetBad {
  ok: false;
  /** Why the file is not readable as Parquet, e.g. `missing PAR1 magic at end of file (found "PAR0")`. */
  error: string;
}

export type ParquetInfo = ParquetOk | ParquetBad;

/** A schema element with its children resolved. */
export interface SchemaNode {
  element: SchemaElement;
  children: SchemaNode[];
}

/** Raised for footers whose structure is inconsistent; the message becomes ParquetBad.error. */
export class FooterError extends Error {}

/** Rebuild the tree from the depth-first flat list; the root is schema[0]. */
export function schemaTree(schema: SchemaElement[]): SchemaNode {
  if (schema.length === 0) throw new FooterError('schema is empty');
  let next = 0;
  const build = (depth: number, parent: number): SchemaNode => {
    const index = next++;
    const element = schema[index];
    if (!element) {
      throw new FooterError(`schema is malformed: element ${parent} declares ${schema[parent]?.num_children} children but the schema ends first`);
    }
    if (typeof element.name !== 'string') throw new FooterError(`schema element ${index} has no name`);
    if (depth > 100) throw new FooterError('schema is nested more than 100 levels deep');
    const children: SchemaNode[] = [];
    for (let i = 0; i < (element.num_children ?? 0); i++) children.push(build(depth + 1, index));
    return { element, children };
  };
  const root = build(0, -1);
  if (next !== schema.length) throw new FooterError(`schema is malformed: ${schema.length - next} elements lie outside the root's tree`);
  return root;
}

export function isLeaf(node: SchemaNode): boolean {
  return node.children.length === 0 && node.element.type !== undefined;
}

/** All leaves in column-chunk order, each with its path from the root (root excluded). */
export function leaves(root: SchemaNode): { node: SchemaNode; path: string[] }[] {
  const out: { node: SchemaNode; path: string[] }[] = [];
  const walk = (node: SchemaNode, path: string[]) => {
    if (isLeaf(node)) out.push({ node, path });
    else for (const child of node.children) walk(child, [...path, child.element.name]);
  };
  for (const child of root.children) walk(child, [child.element.name]);
  return out;
}

export function repetitionOf(element: SchemaElement): Repetition {
  return (element.repetition_type as Repetition | undefined) ?? 'REQUIRED';
}

export function topLevelField(node: SchemaNode): FieldInfo {
  const repetition = repetitionOf(node.element);
  return { name: node.element.name, type: formatType(fieldType(node)), repetition, nullable: repetition === 'OPTIONAL' };
}

/** The type of a field as seen from its parent: a bare REPEATED field is a list of its values. */
export function fieldType(node: SchemaNode): TypeNode {
  const value = valueType(node);
  return node.element.repetition_type === 'REPEATED' ? { kind: 'list', element: value } : value;
}

function annotation(element: SchemaElement): string | undefined {
  return element.logical_type?.type ?? element.converted_type;
}

function valueType(node: SchemaNode): TypeNode {
  if (isLeaf(node)) return scalarType(node.element);
  const a = annotation(node.element);
  if (a === 'LIST') return listType(node) ?? structType(node);
  if (a === 'MAP' || a === 'MAP_KEY_VALUE') return mapType(node) ?? structType(node);
  if (a === 'VARIANT') return { kind: 'scalar', name: 'VARIANT' };
  return structType(node);
}

function structType(node: SchemaNode): TypeNode {
  return { kind: 'struct', fields: node.children.map((c) => ({ name: c.element.name, type: fieldType(c) })) };
}

/** LIST, including the legacy two-level shapes (the spec's backward-compatibility rules). */
function listType(node: SchemaNode): TypeNode | undefined {
  const repeated = node.children[0];
  if (node.children.length !== 1 || !repeated || repeated.element.repetition_type !== 'REPEATED') return undefined;
  const legacyGroup = repeated.children.length > 1 || repeated.element.name === 'array' || repeated.element.name === `${node.element.name}_tuple`;
  let element: TypeNode;
  if (isLeaf(repeated)) element = valueType(repeated);
  else if (legacyGroup) element = structType(repeated);
  else element = fieldType(repeated.children[0]!);
  return { kind: 'list', element };
}

function mapType(node: SchemaNode): TypeNode | undefined {
  const kv = node.children[0];
  if (node.children.length !== 1 || !kv || kv.element.repetition_type !== 'REPEATED') return undefined;
  const [key, value] = kv.children;
  if (!key || kv.children.length > 2) return undefined;
  return { kind: 'map', key: valueType(key), value: value ? fieldType(value) : { kind: 'scalar', name: 'NULL' } };
}

const CONVERTED_SCALARS: Record<string, string> = {
  UTF8: 'STRING', ENUM: 'ENUM', JSON: 'JSON', BSON: 'BSON', DATE: 'DATE', INTERVAL: 'INTERVAL',
  INT_8: 'INT8', INT_16: 'INT16', INT_32: 'INT32', INT_64: 'INT64',
  UINT_8: 'UINT8', UINT_16: 'UINT16', UINT_32: 'UINT32', UINT_64: 'UINT64',
};
const LOGICAL_SCALARS: Record<string, string> = {
  STRING: 'STRING', ENUM: 'ENUM', JSON: 'JSON', BSON: 'BSON', UUID: 'UUID', DATE: 'DATE', INTERVAL: 'INTERVAL',
  FLOAT16: 'FLOAT16', NULL: 'NULL', VARIANT: 'VARIANT', GEOMETRY: 'GEOMETRY', GEOGRAPHY: 'GEOGRAPHY',
};

/** A leaf's type: LogicalType first, then the legacy ConvertedType, then the physical type. */
export function scalarType(e: SchemaElement): TypeNode {
  return fromLogical(e) ?? fromConverted(e) ?? fromPhysical(e);
}

function fromLogical(e: SchemaElement): TypeNode | undefined {
  const lt = e.logical_type;
  if (!lt) return undefined;
  switch (lt.type) {
    case 'DECIMAL': return { kind: 'decimal', precision: lt.precision, scale: lt.scale };
    case 'TIME': return { kind: 'time', unit: lt.unit, utc: lt.isAdjustedToUTC };
    case 'TIMESTAMP': return { kind: 'timestamp', unit: lt.unit, utc: lt.isAdjustedToUTC };
    case 'INTEGER': return { kind: 'scalar', name: `${lt.isSigned ? 'INT' : 'UINT'}${lt.bitWidth}` };
  }
  const name = LOGICAL_SCALARS[lt.type];
  return name ? { kind: 'scalar', name } : undefined;
}

function fromConverted(e: SchemaElement): TypeNode | undefined {
  const ct = e.converted_type;
  if (!ct) return undefined;
  // Converted time types predate isAdjustedToUTC and are defined as UTC-normalized.
  const temporal: Record<string, [kind: 'time' | 'timestamp', unit: TimeUnit]> = {
    TIME_MILLIS: ['time', 'MILLIS'], TIME_MICROS: ['time', 'MICROS'],
    TIMESTAMP_MILLIS: ['timestamp', 'MILLIS'], TIMESTAMP_MICROS: ['timestamp', 'MICROS'],
  };
  const t = temporal[ct];
  if (t) return { kind: t[0], unit: t[1], utc: true };
  if (ct === 'DECIMAL') return { kind: 'decimal', precision: e.precision ?? 0, scale: e.scale ?? 0 };
  const name = CONVERTED_SCALARS[ct];
  return name ? { kind: 'scalar', name } : undefined;
}

function fromPhysical(e: SchemaElement): TypeNode {
  if (e.type === 'BYTE_ARRAY') return { kind: 'scalar', name: 'BINARY' };
  if (e.type === 'FIXED_LEN_BYTE_ARRAY') return { kind: 'fixed', length: e.type_length ?? 0 };
  return { kind: 'scalar', name: e.type ?? 'NULL' };
}
