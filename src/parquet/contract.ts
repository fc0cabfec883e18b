/**
 * Schema contracts: what a branch promises about the Parquet files under a path glob.
 *
 *   { "columns": { "user_id": { "type": "INT64", "nullable": false } },
 *     "extraColumns": "deny", "minRows": 1000 }
 *
 * `columns` name top-level fields; `type` is a canonical type name (docs/parquet.md), checked
 * exactly after canonicalization; `nullable: false` requires a non-nullable field while
 * `nullable: true` accepts either. parseContract validates once at the edge; checkContract is pure.
 */
import { fail } from '../errors.js';
import type { ParquetInfo } from './schema.js';
import { canonicalTypeName, TypeNameError } from './type-names.js';

export { globMatch } from './glob.js';

export interface ContractColumn {
  type?: string;
  nullable?: boolean;
}

export interface SchemaContract {
  columns: Record<string, ContractColumn>;
  extraColumns: 'allow' | 'deny';
  minRows?: number;
}

const CONTRACT_KEYS = ['columns', 'extraColumns', 'minRows'];
const COLUMN_KEYS = ['type', 'nullable'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownKeys(obj: Record<string, unknown>, allowed: string[], where: string, problems: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) problems.push(`${where}unknown key ${JSON.stringify(key)} (allowed: ${allowed.join(', ')})`);
  }
}

function parseColumn(name: string, spec: unknown, problems: string[]): ContractColumn {
  const where = `columns.${JSON.stringify(name)}`;
  if (name === '') problems.push('columns: a column name must not be empty');
  if (!isObject(spec)) {
    problems.push(`${where}: must be an object like {"type": "INT64", "nullable": false}`);
    return {};
  }
  unknownKeys(spec, COLUMN_KEYS, `${where}: `, problems);
  const column: ContractColumn = {};
  if (spec.type !== undefined) {
    if (typeof spec.type !== 'string') problems.push(`${where}.type: must be a string`);
    else {
      try {
        column.type = canonicalTypeName(spec.type);
      } catch (err) {
        if (!(err instanceof TypeNameError)) throw err;
        problems.push(`${where}.type: ${JSON.stringify(spec.type)} is not a type name: ${err.message}`);
      }
    }
  }
  if (spec.nullable !== undefined) {
    if (typeof spec.nullable !== 'boolean') problems.push(`${where}.nullable: must be true or false`);
    else column.nullable = spec.nullable;
  }
  return column;
}

/** Validate a contract from JSON; every problem is listed in one E_BAD_REQUEST. Type names come back canonical. */
export function parseContract(json: unknown): SchemaContract {
  if (!isObject(json)) throw fail('E_BAD_REQUEST', 'invalid schema contract: must be a JSON object');
  const problems: string[] = [];
  unknownKeys(json, CONTRACT_KEYS, '', problems);
  const contract: SchemaContract = { columns: {}, extraColumns: 'allow' };
  if (json.columns !== undefined) {
    if (!isObject(json.columns)) problems.push('columns: must be an object mapping column names to {type, nullable}');
    else for (const [name, spec] of Object.entries(json.columns)) contract.columns[name] = parseColumn(name, spec, problems);
  }
  if (json.extraColumns !== undefined) {
    if (json.extraColumns !== 'allow' && json.extraColumns !== 'deny') problems.push(`extraColumns: must be "allow" or "deny", got ${JSON.stringify(json.extraColumns)}`);
    else contract.extraColumns = json.extraColumns;
  }
  if (json.minRows !== undefined) {
    if (!Number.isSafeInteger(json.minRows) || (json.minRows as number) < 0) problems.push(`minRows: must be a non-negative integer, got ${JSON.stringify(json.minRows)}`);
    else contract.minRows = json.minRows as number;
  }
  if (problems.length > 0) throw fail('E_BAD_REQUEST', `invalid schema contract: ${problems.join('; ')}`, { problems });
  return contract;
}

function canonicalOrRaw(type: string): string {
  try {
    return canonicalTypeName(type);
  } catch {
    return type;
  }
}

/** Every way `info` (the file at `path`) breaks `contract`, as `<path>: <what>` lines; [] when it conforms. */
export function checkContract(contract: SchemaContract, info: ParquetInfo, path: string): string[] {
  if (!info.ok) return [`${path}: not a readable Parquet file: ${info.error}`];
  const violations: string[] = [];
  const fields = new Map(info.fields.map((f) => [f.name, f]));
  for (const [name, want] of Object.entries(contract.columns)) {
    const field = fields.get(name);
    const label = `column ${JSON.stringify(name)}`;
    if (!field) {
      violations.push(`${path}: ${label} is missing`);
      continue;
    }
    const expected = want.type === undefined ? undefined : canonicalOrRaw(want.type);
    if (expected !== undefined && field.type !== expected) violations.push(`${path}: ${label} has type ${field.type}, expected ${expected}`);
    if (want.nullable === false && field.nullable) violations.push(`${path}: ${label} is nullable, expected not null`);
  }
  if (contract.extraColumns === 'deny') {
    for (const f of info.fields) {
      if (!Object.hasOwn(contract.columns, f.name)) violations.push(`${path}: unexpected column ${JSON.stringify(f.name)} (extraColumns: deny)`);
    }
  }
  if (contract.minRows !== undefined && info.rows < contract.minRows) {
    violations.push(`${path}: ${info.rows} rows, expected at least ${contract.minRows}`);
  }
  return violations;
}
