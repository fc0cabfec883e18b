/**
 * Parquet metadata of stored files, read from the footer only: the last chunk or two of the file
 * (plus 4 bytes at the start for the magic), never the whole file. Results are content-addressed by
 * manifest id, so each distinct file content is parsed once and later reads come from LevelDB.
 */
import { keys } from '../meta/keys.js';
import { getManifest } from '../meta/records.js';
import type { MetaOp } from '../meta/meta-store.js';
import { chunkOffsets, type Manifest, type ManifestRef } from '../objects/manifest.js';
import { readParquetInfo, type ParquetInfo, type ReadRange } from '../parquet/index.js';
import type { EngineContext } from './context.js';

export const isParquetPath = (path: string) => path.toLowerCase().endsWith('.parquet');

/** The cached info, or undefined when this content was never inspected. */
export async function cachedParquetInfo(ctx: EngineContext, manifestId: string): Promise<ParquetInfo | undefined> {
  const v = await ctx.meta.get(keys.parquetInfo(manifestId));
  return v === undefined ? undefined : (JSON.parse(v) as ParquetInfo);
}

export function parquetInfoOp(manifestId: string, info: ParquetInfo): MetaOp {
  return { type: 'put', key: keys.parquetInfo(manifestId), value: JSON.stringify(info) };
}

/** Cached info, or parse the footer now (the caller decides whether to persist it). */
export async function parquetInfoFor(ctx: EngineContext, manifestId: string, manifest: Manifest): Promise<{ info: ParquetInfo; fresh: boolean }> {
  const cached = await cachedParquetInfo(ctx, manifestId);
  if (cached) return { info: cached, fresh: false };
  return { info: await readParquetInfo(manifest.size, manifestRange(ctx, manifest)), fresh: true };
}

/**
 * Info for a file entry's content: cached by manifest id, or parsed now and cached (files
 * committed before a path was recognized as Parquet, or before metadata extraction existed).
 */
export async function parquetInfoByRef(ctx: EngineContext, ref: ManifestRef): Promise<ParquetInfo> {
  const { info, fresh } = await parquetInfoFor(ctx, ref.manifest, await getManifest(ctx.meta, ref));
  if (fresh) await ctx.meta.batch([parquetInfoOp(ref.manifest, info)], { sync: false });
  return info;
}

/** Random access into a stored file: reads only the chunks overlapping [start, end). */
export function manifestRange(ctx: EngineContext, manifest: Manifest): ReadRange {
  const offsets = chunkOffsets(manifest);
  return async (start, end) => {
    let first = 0;
    while (offsets[first + 1]! <= start) first++;
    let last = first;
    while (offsets[last + 1]! < end) last++;
    const parts: Buffer[] = [];
    for await (const chunk of ctx.reader.read(manifest.chunks.slice(first, last + 1).map(([hash]) => hash))) parts.push(chunk);
    const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    return joined.subarray(start - offsets[first]!, end - offsets[first]!);
  };
}
