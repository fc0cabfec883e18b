/** Parquet awareness: footer-only metadata, canonical type names, schema diffs and contracts. */
export { readParquetInfo, DEFAULT_MAX_FOOTER_BYTES, type ReadRange, type ReadParquetOptions } from './read-footer.js';
export type { ParquetInfo, ParquetOk, ParquetBad, FieldInfo, ColumnInfo, ColumnStats, StatValue, Repetition } from './schema.js';
export { diffSchemas, type SchemaChange, type ColumnSummary } from './schema-diff.js';
export { parseContract, checkContract, type SchemaContract, type ContractColumn } from './contract.js';
export { globMatch } from './glob.js';
export { canonicalTypeName, parseTypeName, formatType, TypeNameError, SCALAR_NAMES, type TypeNode } from './type-names.js';
