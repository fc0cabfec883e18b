/**
 * Column statistics: decoded from the raw min/max bytes the writer stored (exactly, including
 * DECIMAL(38,x) and nanosecond timestamps, which a float or a JS Date would round), aggregated
 * across row groups, and rendered as JSON-friendly values (ISO dates, decimal strings).
 */
import type { SchemaElement } from 'hyparquet';
import { scalarType, type ColumnStats, type StatValue } from './schema.js';
import type { TimeUnit, TypeNode } from './type-names.js';

/** One column chunk's statistics as stored: raw little-endian/plain-encoded bytes. */
export interface RawChunkStats {
  /** Parquet 2 `min_value` / `max_value`, correct for the column's sort order. */
  minValue?: Uint8Array;
  maxValue?: Uint8Array;
  /** Deprecated `min` / `max`, written with signed comparison; trusted only for signed types. */
  legacyMin?: Uint8Array;
  legacyMax?: Uint8Array;
  nullCount?: bigint;
  numValues: bigint;
}

type Comparable = bigint | number | boolean | Uint8Array;
type StatKind = 'bool' | 'int' | 'uint' | 'float' | 'float16' | 'decimal' | 'bytes' | 'none';

/** Rendered strings longer than this are dropped rather than stored in every commit. */
const MAX_RENDERED_LENGTH = 256;

/** Pull chunk statistics out of hyparquet's raw Thrift object (ColumnMetaData.statistics is field 12). */
export function rawChunkStats(columnMeta: Record<string, unknown>): RawChunkStats {
  const s = columnMeta.field_12 as Record<string, unknown> | undefined;
  const numValues = BigInt((columnMeta.field_5 as bigint | number | undefined) ?? 0);
  if (!s) return { numValues };
  const bytes = (v: unknown) => (v instanceof Uint8Array ? v : undefined);
  const out: RawChunkStats = { numValues };
  if (bytes(s.field_6)) out.minValue = bytes(s.field_6);
  if (bytes(s.field_5)) out.maxValue = bytes(s.field_5);
  if (bytes(s.field_2)) out.legacyMin = bytes(s.field_2);
  if (bytes(s.field_1)) out.legacyMax = bytes(s.field_1);
  if (s.field_3 !== undefined) out.nullCount = BigInt(s.field_3 as bigint | number);
  return out;
}

function statKind(e: SchemaElement, t: TypeNode): StatKind {
  const unsigned = t.kind === 'scalar' && t.name.startsWith('UINT');
  switch (e.type) {
    case 'BOOLEAN': return 'bool';
    case 'INT32': case 'INT64': return t.kind === 'decimal' ? 'decimal' : unsigned ? 'uint' : 'int';
    case 'FLOAT': case 'DOUBLE': return 'float';
    case 'BYTE_ARRAY': case 'FIXED_LEN_BYTE_ARRAY':
      if (t.kind === 'decimal') return 'decimal';
      if (t.kind === 'scalar' && t.name === 'FLOAT16') return 'float16';
      if (t.kind === 'scalar' && t.name === 'INTERVAL') return 'none';
      return 'bytes';
    default: return 'none'; // INT96: sort order undefined by the spec
  }
}

/** The deprecated min/max used signed comparison: only meaningful where that is the real order. */
function legacyTrusted(kind: StatKind, e: SchemaElement): boolean {
  return kind === 'bool' || kind === 'int' || kind === 'float' || (kind === 'decimal' && (e.type === 'INT32' || e.type === 'INT64'));
}

function decode(bytes: Uint8Array, kind: StatKind, e: SchemaElement): Comparable | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const int = (signed: boolean): bigint | undefined => {
    if (e.type === 'INT32' && bytes.length === 4) return BigInt(signed ? view.getInt32(0, true) : view.getUint32(0, true));
    if (e.type === 'INT64' && bytes.length === 8) return signed ? view.getBigInt64(0, true) : view.getBigUint64(0, true);
    return undefined;
  };
  switch (kind) {
    case 'bool': return bytes.length === 1 ? bytes[0] === 1 : undefined;
    case 'int': return int(true);
    case 'uint': return int(false);
    case 'float': {
      const v = bytes.length === 4 ? view.getFloat32(0, true) : bytes.length === 8 ? view.getFloat64(0, true) : NaN;
      return Number.isNaN(v) ? undefined : v;
    }
    case 'float16': return bytes.length === 2 ? float16(view.getUint16(0, true)) : undefined;
    case 'decimal': return e.type === 'INT32' || e.type === 'INT64' ? int(true) : bigEndianSigned(bytes);
    case 'bytes': return bytes;
    case 'none': return undefined;
  }
}

function float16(bits: number): number | undefined {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0x1f) return frac ? undefined : sign * Infinity;
  return exp === 0 ? sign * frac * 2 ** -24 : sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function bigEndianSigned(bytes: Uint8Array): bigint | undefined {
  if (bytes.length === 0) return undefined;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return BigInt.asIntN(bytes.length * 8, v);
}

function compare(a: Comparable, b: Comparable): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Aggregate chunk statistics for one leaf. min (max) is present only when every chunk holding a
 * non-null value has one; all-null chunks carry none and are skipped. nullCount needs every chunk.
 */
export function aggregateStats(e: SchemaElement, chunks: RawChunkStats[]): ColumnStats | undefined {
  const t = scalarType(e);
  const kind = statKind(e, t);
  const useLegacy = legacyTrusted(kind, e);
  const out: ColumnStats = {};
  const pick = (side: 'min' | 'max'): Comparable | undefined => {
    let best: Comparable | undefined;
    for (const c of chunks) {
      if (c.nullCount !== undefined && c.nullCount === c.numValues) continue;
      const raw = side === 'min' ? (c.minValue ?? (useLegacy ? c.legacyMin : undefined)) : (c.maxValue ?? (useLegacy ? c.legacyMax : undefined));
      const v = raw && decode(raw, kind, e);
      if (v === undefined) return undefined;
      if (best === undefined || (side === 'min' ? compare(v, best) < 0 : compare(v, best) > 0)) best = v;
    }
    return best;
  };
  const min = pick('min');
  const max = pick('max');
  if (min !== undefined) setIfRendered(out, 'min', render(min, t));
  if (max !== undefined) setIfRendered(out, 'max', render(max, t));
  if (chunks.length > 0 && chunks.every((c) => c.nullCount !== undefined)) {
    out.nullCount = Number(chunks.reduce((sum, c) => sum + c.nullCount!, 0n));
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function setIfRendered(out: ColumnStats, key: 'min' | 'max', v: StatValue | undefined): void {
  if (v !== undefined && !(typeof v === 'string' && v.length > MAX_RENDERED_LENGTH)) out[key] = v;
}

/** Render a decoded value for its logical type; undefined when it has no faithful rendering. */
export function render(v: Comparable, t: TypeNode): StatValue | undefined {
  if (typeof v === 'boolean') return v;
  // Writers store -0.0 as the min of a column holding zero (the spec asks them to); JSON has no -0.
  if (typeof v === 'number') return Number.isFinite(v) ? v + 0 : String(v);
  if (v instanceof Uint8Array) return renderBytes(v, t);
  switch (t.kind) {
    case 'decimal': return decimalString(v, t.scale);
    case 'timestamp': return timestampString(v, t.unit, t.utc);
    case 'time': return timeString(v, t.unit);
    case 'scalar': return t.name === 'DATE' ? dateString(v) : safeNumber(v);
    default: return safeNumber(v);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function renderBytes(v: Uint8Array, t: TypeNode): StatValue | undefined {
  const name = t.kind === 'scalar' ? t.name : '';
  if (name === 'STRING' || name === 'ENUM' || name === 'JSON') {
    try {
      return utf8.decode(v);
    } catch {
      return undefined; // truncated mid-character by the writer
    }
  }
  const hex = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (name === 'UUID' && v.length === 16) return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return `0x${hex}`;
}

function safeNumber(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

/** Exact decimal rendering: unscaled -12345 with scale 3 -> "-12.345". */
export function decimalString(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString();
  if (scale <= 0) return `${negative ? '-' : ''}${digits}${'0'.repeat(-scale)}`;
  const padded = digits.padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

const PER_SECOND: Record<TimeUnit, bigint> = { MILLIS: 1000n, MICROS: 1_000_000n, NANOS: 1_000_000_000n };
const FRACTION_DIGITS: Record<TimeUnit, number> = { MILLIS: 3, MICROS: 6, NANOS: 9 };

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** ISO 8601 with the unit's full precision; `Z` only for UTC-adjusted timestamps. */
export function timestampString(v: bigint, unit: TimeUnit, utc: boolean): string {
  const per = PER_SECOND[unit];
  const seconds = floorDiv(v, per);
  const fraction = (v - seconds * per).toString().padStart(FRACTION_DIGITS[unit], '0');
  const date = new Date(Number(seconds) * 1000);
  if (Number.isNaN(date.getTime())) return v.toString();
  return `${date.toISOString().slice(0, -5)}.${fraction}${utc ? 'Z' : ''}`;
}

export function timeString(v: bigint, unit: TimeUnit): string {
  const per = PER_SECOND[unit];
  const seconds = v / per;
  const fraction = (v % per).toString().padStart(FRACTION_DIGITS[unit], '0');
  const hh = String(seconds / 3600n).padStart(2, '0');
  const mm = String((seconds / 60n) % 60n).padStart(2, '0');
  const ss = String(seconds % 60n).padStart(2, '0');
  return `${hh}:${mm}:${ss}.${fraction}`;
}

export function dateString(days: bigint): string {
  const date = new Date(Number(days) * 86_400_000);
  return Number.isNaN(date.getTime()) ? days.toString() : date.toISOString().slice(0, 10);
}
