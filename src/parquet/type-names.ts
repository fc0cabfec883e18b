/**
 * The canonical Parquet type names: one spelling per logical type, printed by inspect and written
 * by users in contracts. Pure: a small AST, a printer and a parser (docs/parquet.md has the grammar).
 *
 *   type     := scalar | 'LIST<' type '>' | 'MAP<' type ', ' type '>' | 'STRUCT<' fields? '>'
 *   fields   := name ': ' type (', ' name ': ' type)*
 *   scalar   := BOOLEAN | INT8 | ... | DECIMAL(p,s) | TIMESTAMP(unit[,UTC]) | ...
 *
 * Keywords are case-insensitive and whitespace is free when parsing; printing is canonical.
 */

export type TimeUnit = 'MILLIS' | 'MICROS' | 'NANOS';

export type TypeNode =
  | { kind: 'scalar'; name: string }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'time' | 'timestamp'; unit: TimeUnit; utc: boolean }
  | { kind: 'fixed'; length: number }
  | { kind: 'list'; element: TypeNode }
  | { kind: 'map'; key: TypeNode; value: TypeNode }
  | { kind: 'struct'; fields: { name: string; type: TypeNode }[] };

/** Scalar names that take no arguments. INT32/INT64 are signed; INT8/UINT8... come from INT annotations. */
export const SCALAR_NAMES = [
  'BOOLEAN', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT96',
  'FLOAT16', 'FLOAT', 'DOUBLE', 'STRING', 'BINARY', 'ENUM', 'JSON', 'BSON', 'UUID', 'DATE',
  'INTERVAL', 'NULL', 'VARIANT', 'GEOMETRY', 'GEOGRAPHY',
] as const;
const SCALARS: ReadonlySet<string> = new Set(SCALAR_NAMES);
const PARAMETERIZED = ['DECIMAL', 'TIME', 'TIMESTAMP', 'FIXED_LEN_BYTE_ARRAY', 'LIST', 'MAP', 'STRUCT'];
const TIME_UNITS: ReadonlySet<string> = new Set(['MILLIS', 'MICROS', 'NANOS']);
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function formatType(t: TypeNode): string {
  switch (t.kind) {
    case 'scalar': return t.name;
    case 'decimal': return `DECIMAL(${t.precision},${t.scale})`;
    case 'time': return `TIME(${t.unit}${t.utc ? ',UTC' : ''})`;
    case 'timestamp': return `TIMESTAMP(${t.unit}${t.utc ? ',UTC' : ''})`;
    case 'fixed': return `FIXED_LEN_BYTE_ARRAY(${t.length})`;
    case 'list': return `LIST<${formatType(t.element)}>`;
    case 'map': return `MAP<${formatType(t.key)}, ${formatType(t.value)}>`;
    case 'struct': return `STRUCT<${t.fields.map((f) => `${formatFieldName(f.name)}: ${formatType(f.type)}`).join(', ')}>`;
  }
}

/** Field names that are not plain identifiers are quoted as JSON strings: STRUCT<"my field": INT64>. */
export function formatFieldName(name: string): string {
  return PLAIN_NAME.test(name) ? name : JSON.stringify(name);
}

/** Thrown by parseTypeName; `message` is user-facing and names the offending position. */
export class TypeNameError extends Error {}

type Token = { text: string; kind: 'word' | 'number' | 'quoted' | 'punct' };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)|(\d+)|("(?:[^"\\]|\\.)*")|([<>(),:])|\s+/y;
  let at = 0;
  while (at < src.length) {
    re.lastIndex = at;
    const m = re.exec(src);
    if (!m) throw new TypeNameError(`unexpected character ${JSON.stringify(src[at])} at offset ${at}`);
    if (m[1] !== undefined) tokens.push({ text: m[1], kind: 'word' });
    else if (m[2] !== undefined) tokens.push({ text: m[2], kind: 'number' });
    else if (m[3] !== undefined) tokens.push({ text: m[3], kind: 'quoted' });
    else if (m[4] !== undefined) tokens.push({ text: m[4], kind: 'punct' });
    at = re.lastIndex;
  }
  return tokens;
}

class TypeParser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parseAll(): TypeNode {
    const t = this.type();
    const extra = this.tokens[this.pos];
    if (extra) throw new TypeNameError(`unexpected ${JSON.stringify(extra.text)} after a complete type`);
    return t;
  }

  private peek(): Token | undefined { return this.tokens[this.pos]; }

  private next(what: string): Token {
    const t = this.tokens[this.pos++];
    if (!t) throw new TypeNameError(`ended early: expected ${what}`);
    return t;
  }

  private expect(punct: string): void {
    const t = this.next(`"${punct}"`);
    if (t.text !== punct) throw new TypeNameError(`expected "${punct}" but found ${JSON.stringify(t.text)}`);
  }

  private int(what: string): number {
    const t = this.next(what);
    if (t.kind !== 'number') throw new TypeNameError(`expected ${what} but found ${JSON.stringify(t.text)}`);
    return Number(t.text);
  }

  private type(): TypeNode {
    const t = this.next('a type name');
    if (t.kind !== 'word') throw new TypeNameError(`expected a type name but found ${JSON.stringify(t.text)}`);
    const name = t.text.toUpperCase();
    if (SCALARS.has(name)) return { kind: 'scalar', name };
    switch (name) {
      case 'DECIMAL': return this.decimal();
      case 'TIME': case 'TIMESTAMP': return this.temporal(name === 'TIME' ? 'time' : 'timestamp');
      case 'FIXED_LEN_BYTE_ARRAY': return this.fixed();
      case 'LIST': return this.list();
      case 'MAP': return this.map();
      case 'STRUCT': return this.struct();
    }
    throw new TypeNameError(unknownTypeMessage(t.text));
  }

  private decimal(): TypeNode {
    this.expect('(');
    const precision = this.int('a precision');
    this.expect(',');
    const scale = this.int('a scale');
    this.expect(')');
    if (precision < 1) throw new TypeNameError(`DECIMAL precision must be at least 1, got ${precision}`);
    if (scale > precision) throw new TypeNameError(`DECIMAL scale ${scale} exceeds its precision ${precision}`);
    return { kind: 'decimal', precision, scale };
  }

  private temporal(kind: 'time' | 'timestamp'): TypeNode {
    const label = kind.toUpperCase();
    this.expect('(');
    const unit = this.next('a time unit').text.toUpperCase();
    if (!TIME_UNITS.has(unit)) throw new TypeNameError(`${label} unit must be MILLIS, MICROS or NANOS, got ${JSON.stringify(unit)}`);
    let utc = false;
    if (this.peek()?.text === ',') {
      this.pos++;
      const flag = this.next('UTC').text.toUpperCase();
      if (flag !== 'UTC') throw new TypeNameError(`${label}(${unit}, ...) only takes UTC as a second argument, got ${JSON.stringify(flag)}`);
      utc = true;
    }
    this.expect(')');
    return { kind, unit: unit as TimeUnit, utc };
  }

  private fixed(): TypeNode {
    this.expect('(');
    const length = this.int('a byte length');
    this.expect(')');
    return { kind: 'fixed', length };
  }

  private list(): TypeNode {
    this.expect('<');
    const element = this.type();
    this.expect('>');
    return { kind: 'list', element };
  }

  private map(): TypeNode {
    this.expect('<');
    const key = this.type();
    this.expect(',');
    const value = this.type();
    this.expect('>');
    return { kind: 'map', key, value };
  }

  private struct(): TypeNode {
    this.expect('<');
    const fields: { name: string; type: TypeNode }[] = [];
    while (this.peek()?.text !== '>') {
      if (fields.length > 0) this.expect(',');
      const n = this.next('a field name');
      if (n.kind !== 'word' && n.kind !== 'quoted') throw new TypeNameError(`expected a field name but found ${JSON.stringify(n.text)}`);
      const name = n.kind === 'quoted' ? unquote(n.text) : n.text;
      this.expect(':');
      fields.push({ name, type: this.type() });
    }
    this.expect('>');
    return { kind: 'struct', fields };
  }
}

function unquote(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    throw new TypeNameError(`invalid quoted field name ${quoted}`);
  }
}

function unknownTypeMessage(word: string): string {
  const all = [...SCALAR_NAMES, ...PARAMETERIZED];
  const close = all.filter((n) => editDistance(word.toUpperCase(), n) <= 2);
  return `unknown type ${JSON.stringify(word)}${close.length ? ` (did you mean ${close.join(' or ')}?)` : ''}`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** Parse a type name in any spacing or keyword case; throws TypeNameError with a precise reason. */
export function parseTypeName(src: string): TypeNode {
  if (src.trim() === '') throw new TypeNameError('empty type name');
  return new TypeParser(tokenize(src)).parseAll();
}

/** The canonical spelling of a type name: `list < int64 >` -> `LIST<INT64>`. */
export function canonicalTypeName(src: string): string {
  return formatType(parseTypeName(src));
}
