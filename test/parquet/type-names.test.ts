/** The canonical type grammar, and how schema shapes no fixture writer produces any more map onto it. */
import type { SchemaElement } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { canonicalTypeName, parseTypeName, TypeNameError } from '../../src/parquet/index.js';
import { schemaTree, topLevelField } from '../../src/parquet/schema.js';
import { decimalString, timestampString } from '../../src/parquet/stats.js';

describe('canonical type names', () => {
  it('round-trips every canonical spelling unchanged', () => {
    for (const name of [
      'BOOLEAN', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT64', 'INT96', 'FLOAT16', 'FLOAT', 'DOUBLE',
      'STRING', 'BINARY', 'ENUM', 'JSON', 'BSON', 'UUID', 'DATE', 'INTERVAL', 'NULL', 'VARIANT',
      'DECIMAL(18,3)', 'DECIMAL(38,10)', 'TIME(MILLIS)', 'TIME(NANOS,UTC)', 'TIMESTAMP(MICROS)', 'TIMESTAMP(MILLIS,UTC)',
      'FIXED_LEN_BYTE_ARRAY(16)', 'LIST<INT64>', 'MAP<STRING, INT64>', 'STRUCT<a: INT64, b: STRING>',
      'LIST<STRUCT<x: DOUBLE, "my field": LIST<STRING>>>', 'STRUCT<>',
    ]) {
      expect(canonicalTypeName(name)).toBe(name);
    }
  });

  it('accepts any keyword case and spacing and prints the canonical form', () => {
    expect(canonicalTypeName('decimal( 18 , 3 )')).toBe('DECIMAL(18,3)');
    expect(canonicalTypeName('timestamp(nanos, utc)')).toBe('TIMESTAMP(NANOS,UTC)');
    expect(canonicalTypeName(' map<string,int64> ')).toBe('MAP<STRING, INT64>');
    expect(canonicalTypeName('struct<City:string,zip : int32>')).toBe('STRUCT<City: STRING, zip: INT32>');
  });

  it('parses composite types into a tree', () => {
    expect(parseTypeName('MAP<STRING, LIST<DATE>>')).toEqual({
      kind: 'map', key: { kind: 'scalar', name: 'STRING' }, value: { kind: 'list', element: { kind: 'scalar', name: 'DATE' } },
    });
  });

  const rejects = (src: string, message: RegExp) => {
    expect(() => parseTypeName(src)).toThrow(TypeNameError);
    expect(() => parseTypeName(src)).toThrow(message);
  };

  it('rejects unknown names, suggesting close ones', () => {
    rejects('DUBLE', /unknown type "DUBLE" \(did you mean DOUBLE\?\)/);
    rejects('VARCHAR', /^unknown type "VARCHAR"$/);
    rejects('LIST<INTEGER>', /unknown type "INTEGER"/);
  });

  it('rejects malformed parameters and punctuation', () => {
    rejects('', /empty type name/);
    rejects('DECIMAL', /ended early: expected "\("/);
    rejects('DECIMAL(3,5)', /scale 5 exceeds its precision 3/);
    rejects('DECIMAL(0,0)', /precision must be at least 1/);
    rejects('TIMESTAMP(SECONDS)', /unit must be MILLIS, MICROS or NANOS/);
    rejects('TIMESTAMP(MILLIS,LOCAL)', /only takes UTC/);
    rejects('LIST<INT64', /ended early: expected ">"/);
    rejects('MAP<STRING>', /expected ","/);
    rejects('INT64 INT32', /unexpected "INT32" after a complete type/);
    rejects('STRING!', /unexpected character "!"/);
    rejects('STRUCT<1: INT64>', /expected a field name/);
  });
});

/** A schema list whose root holds the given flat (childless) top-level elements. */
const schema = (...elements: SchemaElement[]): SchemaElement[] => [{ name: 'root', num_children: elements.length }, ...elements];

describe('schema shapes from older writers', () => {
  it('reads a legacy two-level list of primitives as LIST<T>', () => {
    const root = schemaTree([
      { name: 'root', num_children: 1 },
      { name: 'xs', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'array', repetition_type: 'REPEATED', type: 'INT32' },
    ]);
    expect(topLevelField(root.children[0]!)).toEqual({ name: 'xs', type: 'LIST<INT32>', repetition: 'OPTIONAL', nullable: true });
  });

  it('reads a repeated group named "array" as a list of structs', () => {
    const root = schemaTree([
      { name: 'root', num_children: 1 },
      { name: 'pts', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'array', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'x', repetition_type: 'REQUIRED', type: 'DOUBLE' },
    ]);
    expect(topLevelField(root.children[0]!).type).toBe('LIST<STRUCT<x: DOUBLE>>');
  });

  it('reads a bare repeated field (protobuf style) as a non-nullable LIST', () => {
    const root = schemaTree(schema({ name: 'ids', repetition_type: 'REPEATED', type: 'INT64' }));
    expect(topLevelField(root.children[0]!)).toEqual({ name: 'ids', type: 'LIST<INT64>', repetition: 'REPEATED', nullable: false });
  });

  it('reads MAP_KEY_VALUE maps and Spark INT96 timestamps', () => {
    const root = schemaTree([
      { name: 'root', num_children: 2 },
      { name: 'm', repetition_type: 'OPTIONAL', converted_type: 'MAP_KEY_VALUE', num_children: 1 },
      { name: 'map', repetition_type: 'REPEATED', num_children: 2 },
      { name: 'key', repetition_type: 'REQUIRED', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
      { name: 'value', repetition_type: 'OPTIONAL', type: 'INT32', converted_type: 'DATE' },
      { name: 'ts', repetition_type: 'OPTIONAL', type: 'INT96' },
    ]);
    expect(root.children.map((c) => topLevelField(c).type)).toEqual(['MAP<STRING, DATE>', 'INT96']);
  });

  it('prefers the LogicalType over the ConvertedType', () => {
    const root = schemaTree(schema({
      name: 't', repetition_type: 'REQUIRED', type: 'INT64', converted_type: 'TIMESTAMP_MICROS',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: false, unit: 'MICROS' },
    }));
    expect(topLevelField(root.children[0]!).type).toBe('TIMESTAMP(MICROS)');
  });

  it('quotes field names that are not identifiers', () => {
    const root = schemaTree([
      { name: 'root', num_children: 1 },
      { name: 's', repetition_type: 'OPTIONAL', num_children: 1 },
      { name: 'first name', repetition_type: 'OPTIONAL', type: 'BYTE_ARRAY', converted_type: 'UTF8' },
    ]);
    const type = topLevelField(root.children[0]!).type;
    expect(type).toBe('STRUCT<"first name": STRING>');
    expect(canonicalTypeName(type)).toBe(type);
  });

  it('rejects a schema list whose child counts do not add up', () => {
    expect(() => schemaTree([{ name: 'root', num_children: 3 }, { name: 'a', type: 'INT32' }])).toThrow(/element 0 declares 3 children but the schema ends first/);
    expect(() => schemaTree([{ name: 'root', num_children: 1 }, { name: 'a', type: 'INT32' }, { name: 'b', type: 'INT32' }])).toThrow(/outside the root/);
  });
});

describe('statistics rendering', () => {
  it('renders decimals exactly at every scale and sign', () => {
    expect(decimalString(-12345n, 3)).toBe('-12.345');
    expect(decimalString(5n, 3)).toBe('0.005');
    expect(decimalString(-5n, 2)).toBe('-0.05');
    expect(decimalString(42n, 0)).toBe('42');
    expect(decimalString(99999999999999999999999999999999999999n, 10)).toBe('9999999999999999999999999999.9999999999');
  });

  it('renders timestamps before 1970 with a positive fraction', () => {
    expect(timestampString(-1n, 'NANOS', true)).toBe('1969-12-31T23:59:59.999999999Z');
    expect(timestampString(-1500n, 'MILLIS', false)).toBe('1969-12-31T23:59:58.500');
  });
});
