/**
 * Streams a file's bytes (or a byte range) at a ref: only the chunks overlapping the range are
 * read, adjacent ones in one ranged read, each re-hashed by the chunk reader unless told otherwise.
 */
import { fail } from '../errors.js';
import type { Commit } from '../objects/commit.js';
import { chunkOffsets, type Manifest } from '../objects/manifest.js';
import type { FileEntry } from '../objects/tree.js';
import { getManifest } from '../meta/records.js';
import type { ReadOptions } from '../packs/chunk-reader.js';
import type { RepoName, RepoPath } from '../types.js';
import { requireFile, resolveAt } from './browse.js';
import type { EngineContext } from './context.js';

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface OpenedFile {
  commit: Commit;
  entry: FileEntry;
  manifest: Manifest;
  /**
   * The bytes of the whole file, or of an inclusive range of it; nothing is read until iterated.
   * Options as for ChunkReader.read: with `recycle`, give every piece back through `ctx.reader.release`.
   */
  read(range?: ByteRange, options?: ReadOptions): AsyncIterable<Buffer>;
}

export async function openFile(ctx: EngineContext, repo: RepoName, ref: string, path: RepoPath): Promise<OpenedFile> {
  const commit = await resolveAt(ctx, repo, ref);
  const entry = await requireFile(ctx, commit, path);
  const manifest = await getManifest(ctx.meta, entry);
  const read = (range?: ByteRange, options: ReadOptions = {}) => {
    if (range && (range.start < 0 || range.start > range.end || range.end >= manifest.size)) {
      throw fail('E_RANGE_NOT_SATISFIABLE', `range ${range.start}-${range.end} is outside ${path} (${manifest.size} bytes)`, { size: manifest.size });
    }
    return readRange(ctx, manifest, range, options);
  };
  return { commit, entry, manifest, read };
}

async function* readRange(ctx: EngineContext, manifest: Manifest, range: ByteRange | undefined, options: ReadOptions): AsyncGenerator<Buffer> {
  if (!range) {
    yield* ctx.reader.read(manifest.chunks.map(([hash]) => hash), options);
    return;
  }
  const offsets = chunkOffsets(manifest);
  let first = 0;
  while (offsets[first + 1]! <= range.start) first++;
  let last = first;
  while (offsets[last + 1]! <= range.end) last++;
  const hashes = manifest.chunks.slice(first, last + 1).map(([hash]) => hash);
  let index = first;
  for await (const chunk of ctx.reader.read(hashes, options)) {
    const chunkStart = offsets[index]!;
    const from = Math.max(0, range.start - chunkStart);
    const to = Math.min(chunk.length, range.end + 1 - chunkStart);
    yield from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to);
    index++;
  }
}
