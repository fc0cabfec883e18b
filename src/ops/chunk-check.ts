/**
 * Checking stored chunks against their names, and marking the damaged ones so they can be
 * repaired. Uploads are deduplicated by the chunk index, so a chunk whose stored bytes went bad (a
 * flipped bit in a pack, a lost pack) stayed bad however often the good bytes were put again, and
 * every new commit naming it was acknowledged unreadable. A damaged chunk's index entry is marked
 * (packs/chunk-location.ts: reads refuse it, an upload stores a fresh copy over it), and so is every
 * repo's presence record of it (the repo still reads it, but must send it again before a commit
 * may name it). The fresh copy repairs every commit that names the chunk, in every repo.
 *
 * An upload to another repo that looked the chunk up just before the mark may still take it as
 * stored (its presence record then says held); checking again finds the entry marked and marks it.
 */
import { DatactlError, fail } from '../errors.js';
import { blake3Hex } from '../hash/blake3.js';
import { keys, keyTail } from '../meta/keys.js';
import type { MetaOp } from '../meta/meta-store.js';
import { requireRepo } from '../meta/records.js';
import { DAMAGED, DAMAGED_PRESENCE, decodeLocation, isDamaged, packKey } from '../packs/chunk-location.js';
import type { ChunkHash, RepoName } from '../types.js';
import type { EngineContext } from './context.js';

export const MAX_CHECK_QUERY = 1000;

export interface ChunkCheckResult {
  /** Chunks of this repo whose stored bytes were read and hashed (or found already marked). */
  checked: number;
  /** Those whose stored bytes are gone or do not hash to their name; marked for repair. */
  damaged: ChunkHash[];
}

/** Re-hash the stored copies of the given chunks this repo holds (others are not looked at). */
export async function checkChunks(ctx: EngineContext, repo: RepoName, hashes: readonly ChunkHash[]): Promise<ChunkCheckResult> {
  await requireRepo(ctx.meta, repo);
  if (hashes.length > MAX_CHECK_QUERY) throw fail('E_PAYLOAD_TOO_LARGE', `at most ${MAX_CHECK_QUERY} hashes per check`);
  await ctx.pending.settled(repo); // answered uploads of this repo are indexed before they are judged
  const unique = [...new Set(hashes)];
  const held = await ctx.meta.getMany(unique.map((h) => keys.repoChunk(repo, h)));
  // Only chunks this repo holds (marked damaged or not): a check must not tell what other repos store.
  const mine = unique.filter((_, i) => held[i] !== undefined);
  const entries = await ctx.meta.getMany(mine.map((h) => keys.chunk(h)));
  const damaged: Array<{ hash: ChunkHash; entry: string | undefined }> = [];
  for (let i = 0; i < mine.length; i++) {
    const hash = mine[i]!;
    const entry = entries[i];
    if (entry === undefined || isDamaged(entry) || !(await storedCopyMatches(ctx, hash, entry))) damaged.push({ hash, entry });
  }
  if (damaged.length > 0) await markDamaged(ctx, damaged);
  return { checked: mine.length, damaged: damaged.map((d) => d.hash) };
}

/** Read the stored bytes and hash them; a store that cannot answer decides nothing (it throws). */
async function storedCopyMatches(ctx: EngineContext, hash: ChunkHash, entry: string): Promise<boolean> {
  const loc = decodeLocation(entry);
  try {
    return blake3Hex(await ctx.store.getRange(packKey(loc.pack), loc.offset, loc.length)) === hash;
  } catch (err) {
    // Gone or cut short: damaged. Unreachable (E_STORE_UNAVAILABLE) and the rest: no verdict.
    if (err instanceof DatactlError && (err.code === 'E_OBJECT_NOT_FOUND' || err.code === 'E_CORRUPT_OBJECT')) return false;
    throw err;
  }
}

/**
 * One marking at a time, each re-reading the entries it judged: an entry that changed meanwhile
 * (an upload stored a fresh copy, after another check marked it) is left as it now is.
 */
async function markDamaged(ctx: EngineContext, damaged: ReadonlyArray<{ hash: ChunkHash; entry: string | undefined }>): Promise<void> {
  await ctx.locks.run(MARK_LOCK, async () => {
    const now = await ctx.meta.getMany(damaged.map((d) => keys.chunk(d.hash)));
    const still = damaged.filter((d, i) => now[i] === d.entry || (now[i] !== undefined && isDamaged(now[i]!)));
    if (still.length === 0) return;
    const repos: RepoName[] = [];
    for await (const [key] of ctx.meta.entries(keys.repoRange())) repos.push(keyTail(key) as RepoName);
    const presence = still.flatMap((d) => repos.map((r) => keys.repoChunk(r, d.hash)));
    const values = await ctx.meta.getMany(presence);
    const ops: MetaOp[] = [];
    for (const { hash, entry } of still) {
      if (entry !== undefined && !isDamaged(entry)) ops.push({ type: 'put', key: keys.chunk(hash), value: `${DAMAGED}${entry}` });
    }
    presence.forEach((key, i) => values[i] !== undefined && values[i] !== DAMAGED_PRESENCE && ops.push({ type: 'put', key, value: DAMAGED_PRESENCE }));
    await ctx.meta.batch(ops, { sync: true });
  });
}

const MARK_LOCK = 'chunk-check:mark';
