import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readParquetInfo, type ParquetInfo, type ParquetOk } from '../../src/parquet/index.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/parquet/', import.meta.url));

export function fixtureBytes(rel: string): Buffer {
  return readFileSync(FIXTURES + rel);
}

/** A readRange over in-memory bytes that records every range asked for. */
export function recordingReader(bytes: Uint8Array) {
  const ranges: [number, number][] = [];
  const readRange = async (start: number, end: number) => {
    ranges.push([start, end]);
    return bytes.subarray(start, end);
  };
  const bytesRead = () => ranges.reduce((sum, [s, e]) => sum + (e - s), 0);
  return { readRange, ranges, bytesRead };
}

export async function infoOfBytes(bytes: Uint8Array): Promise<ParquetInfo> {
  return readParquetInfo(bytes.length, recordingReader(bytes).readRange);
}

export async function infoOf(rel: string): Promise<ParquetInfo> {
  return infoOfBytes(fixtureBytes(rel));
}

export async function okInfo(rel: string): Promise<ParquetOk> {
  const info = await infoOf(rel);
  if (!info.ok) throw new Error(`${rel}: ${info.error}`);
  return info;
}

/** name -> type for the top-level fields. */
export function fieldTypes(info: ParquetOk): Record<string, string> {
  return Object.fromEntries(info.fields.map((f) => [f.name, f.type]));
}

export function column(info: ParquetOk, path: string) {
  const c = info.columns.find((x) => x.path === path);
  if (!c) throw new Error(`no column ${path}; have ${info.columns.map((x) => x.path).join(', ')}`);
  return c;
}
