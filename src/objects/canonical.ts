/**
 * Canonical JSON: object keys sorted, no whitespace, so one value has exactly one encoding and a
 * BLAKE3 of it is a stable identity (commit ids, tree ids, manifest ids).
 */
import { blake3HexOfString } from '../hash/blake3.js';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

export type ObjectType = 'commit' | 'tree' | 'manifest';

/** BLAKE3 of the canonical encoding, prefixed with a type tag so a tree can never equal a commit. */
export function objectId(type: ObjectType, body: string): string {
  return objectIdOfLength(type, Buffer.byteLength(body), body);
}

/** objectId for a caller that knows the body's UTF-8 byte length without measuring it. */
export function objectIdOfLength(type: ObjectType, byteLength: number, body: string): string {
  return blake3HexOfString(`${type} ${byteLength}\0${body}`);
}
