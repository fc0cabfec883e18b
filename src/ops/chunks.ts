/**
 * Chunk negotiation for one repo. Storage is shared across repos, but answers are per repo: a chunk
 * is "present" for a repo only once that repo uploaded (or referenced) it, so asking never reveals
 * what another repo holds.
 */
import { fail } from '../errors.js';
import { keys } from '../meta/keys.js';
import { requireRepo } from '../meta/records.js';
import { MAX_CHUNK_BYTES } from '../objects/manifest.js';
import { ChunkIngest, type IngestStats } from '../packs/chunk-ingest.js';
import { presentFor } from '../packs/chunk-location.js';
import type { ReadOptions } from '../packs/chunk-reader.js';
import type { ChunkHash, RepoName } from '../types.js';
import { decodeFrameParts } from '../wire/frames.js';
import type { EngineContext } from './context.js';

export const MAX_MISSING_QUERY = 100_000;
export const MAX_READ_QUERY = 10_000;

export async function missingChunks(ctx: EngineContext, repo: RepoName, hashes: readonly ChunkHash[]): Promise<ChunkHash[]> {
  await requireRepo(ctx.meta, repo);
  if (hashes.length > MAX_MISSING_QUERY) throw fail('E_PAYLOAD_TOO_LARGE', `at most ${MAX_MISSING_QUERY} hashes per query`);
  return absent(ctx, repo, hashes, true);
}

/**
 * The hashes the repo does not hold. `toSend`: also those it holds but must send again (found
 * damaged); a read of them goes on (it serves a repaired copy, or says the chunk is damaged).
 */
async function absent(ctx: EngineContext, repo: RepoName, hashes: readonly ChunkHash[], toSend: boolean): Promise<ChunkHash[]> {
  const present = await ctx.pending.readIndex(hashes, (hs) => ctx.meta.getMany(hs.map((h) => keys.repoChunk(repo, h))));
  return hashes.filter((h, i) => (toSend ? presentFor(present[i]) : present[i]) === undefined && !ctx.pending.holds(h, repo));
}

/**
 * Ingest a framed upload. Every chunk is hashed (by the ingest, see ChunkIngest.addUploaded); one
 * mismatch or a cut-off body rejects the whole request and nothing from it is indexed. Answered
 * once the packs are written; they are flushed and indexed after (ctx.pending). Chunks are
 * staged as views of the buffers they arrived in and copied once, into their pack, so `body` must
 * yield buffers its producer does not reuse before the next few MiB have been read (socket reads
 * are always fresh).
 */
export async function uploadChunks(ctx: EngineContext, repo: RepoName, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<IngestStats> {
  await requireRepo(ctx.meta, repo);
  const ingest = new ChunkIngest(ctx.meta, ctx.store, repo, ctx.packTargetBytes, ctx.pending);
  try {
    for await (const frames of decodeFrameParts(limitBytes(body, maxBytes), { maxFrameBytes: MAX_CHUNK_BYTES })) {
      for (const frame of frames) {
        if (frame.length === 0) throw fail('E_BAD_REQUEST', `chunk ${frame.hash} is empty; empty chunks are never uploaded`);
        const full = ingest.addUploaded(frame.hash, frame.parts, frame.length);
        if (full) await full;
      }
    }
  } catch (err) {
    await ingest.discard();
    throw err;
  }
  // Answered once written; the flush and the index follow (see PendingUploads).
  const { stats, durable } = await ingest.finish();
  await ctx.pending.track(repo, ingest.hashes, durable);
  return stats;
}

async function* limitBytes(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  let total = 0;
  for await (const piece of body) {
    total += piece.length;
    if (total > maxBytes) throw fail('E_PAYLOAD_TOO_LARGE', `upload exceeds ${maxBytes} bytes; send fewer chunks per request`);
    yield piece;
  }
}

/**
 * Chunk bytes in request order; only chunks this repo holds. Re-hashed on the way out unless
 * `verify` is false, for a consumer that checks each chunk against its hash itself; with
 * `recycle`, each chunk must be handed back through `ctx.reader.release` (ChunkReader).
 */
export async function readChunks(
  ctx: EngineContext,
  repo: RepoName,
  hashes: readonly ChunkHash[],
  options: ReadOptions = {},
): Promise<AsyncIterable<Buffer>> {
  await requireReadable(ctx, repo, hashes);
  return ctx.reader.read(hashes, options);
}

/** readChunks' chunks a run at a time (ChunkReader.readRuns), for a sender of many small chunks. */
export async function readChunkRuns(
  ctx: EngineContext,
  repo: RepoName,
  hashes: readonly ChunkHash[],
  options: ReadOptions = {},
): Promise<AsyncIterable<Buffer[]>> {
  await requireReadable(ctx, repo, hashes);
  return ctx.reader.readRuns(hashes, options);
}

/** The repo exists, its answered uploads are in the store, and it holds every chunk asked for. */
async function requireReadable(ctx: EngineContext, repo: RepoName, hashes: readonly ChunkHash[]): Promise<void> {
  await requireRepo(ctx.meta, repo);
  await ctx.pending.settled(repo);
  if (hashes.length > MAX_READ_QUERY) throw fail('E_PAYLOAD_TOO_LARGE', `at most ${MAX_READ_QUERY} hashes per read`);
  const missing = await absent(ctx, repo, hashes, false);
  if (missing.length > 0) throw fail('E_CHUNK_NOT_FOUND', `chunk ${missing[0]} is not in repo "${repo}"`, { missing: missing.slice(0, 100) });
}
