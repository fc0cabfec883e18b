/**
 * Takes chunks for one repo, checks uploaded ones against their hashes, and makes them durable:
 * chunks the store already holds (from any repo) are not stored again; new ones go into packs;
 * then, once the packs are durable, one batch records their locations and the repo's presence
 * entries. Nothing is indexed until its pack is durable, so an aborted ingest leaves at most an
 * unreferenced pack, never an index entry without bytes.
 */
import { blake3HexParts } from '../hash/blake3.js';
import { keys } from '../meta/keys.js';
import type { MetaStore } from '../meta/meta-store.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { ChunkHash, RepoName } from '../types.js';
import { encodeLocation, isDamaged } from './chunk-location.js';
import { checkChunk, PackWriter } from './pack-writer.js';
import type { ChunkSet, PendingUploads } from './pending-uploads.js';

/**
 * Chunks are checked against the index in small groups: waiting for a whole pack's worth before
 * the dedup lookup would hold a second pack in memory next to the one the writer is filling.
 */
const STAGE_BYTES = 2 * 1024 * 1024;
const STAGE_CHUNKS = 512;

interface StagedChunk {
  hash: ChunkHash;
  parts: readonly Uint8Array[];
  length: number;
  /** False for uploaded bytes: hashed before they are stored or counted as present. */
  verified: boolean;
}

export interface IngestStats {
  received: number;
  stored: number;
  storedBytes: number;
  deduplicated: number;
}

export class ChunkIngest {
  private readonly writer: PackWriter;
  private staged: StagedChunk[] = [];
  private stagedBytes = 0;
  /** Each chunk seen, with its length, recorded with the repo's presence (a commit checks manifests by it). */
  private readonly seen = new Map<ChunkHash, number>();
  readonly stats: IngestStats = { received: 0, stored: 0, storedBytes: 0, deduplicated: 0 };

  constructor(
    private readonly meta: MetaStore,
    store: ObjectStore,
    private readonly repo: RepoName,
    packTargetBytes: number,
    /** Answered uploads not yet indexed: a chunk one of them carries is waited for, not stored twice. */
    private readonly pending?: PendingUploads,
  ) {
    this.writer = new PackWriter(store, packTargetBytes);
  }

  /**
   * Add a chunk whose bytes were already verified against `hash` (the server cut and hashed them
   * itself). `bytes` is kept by reference until its group is checked against the index (at most
   * STAGE_BYTES later), then copied into a pack.
   */
  async add(hash: ChunkHash, bytes: Uint8Array): Promise<void> {
    await this.stage(hash, [bytes], bytes.byteLength, true);
  }

  /**
   * Add an uploaded chunk, given as views whose concatenation is its `length` bytes; kept as `add`
   * keeps them. Its bytes are hashed when they are staged into a pack (see PackWriter.addParts), or
   * from the views if the store already holds it: a repo is only ever told it holds a chunk whose
   * bytes it proved it has. A mismatch throws E_CHUNK_HASH_MISMATCH from this call or a later one,
   * at most STAGE_BYTES on, or from finish() (or commit()); either way before anything is indexed.
   */
  addUploaded(hash: ChunkHash, parts: readonly Uint8Array[], length: number): Promise<void> | undefined {
    return this.stage(hash, parts, length, false);
  }

  /**
   * A promise only when the chunk filled a group and the group is being drained (await it before
   * the next chunk); otherwise the chunk is staged and nothing is waited for. Most chunks are
   * staged, and an async call per chunk was a promise per chunk on a 100k-chunk upload.
   * A forged repeat within one upload throws from here.
   */
  private stage(hash: ChunkHash, parts: readonly Uint8Array[], length: number, verified: boolean): Promise<void> | undefined {
    this.stats.received++;
    if (this.seen.has(hash)) {
      // A repeat within one upload: its bytes are dropped, but a forged repeat is still an error.
      if (!verified) checkChunk(hash, blake3HexParts(parts));
      return undefined;
    }
    this.seen.set(hash, length);
    this.staged.push({ hash, parts, length, verified });
    this.stagedBytes += length;
    return this.stagedBytes >= STAGE_BYTES || this.staged.length >= STAGE_CHUNKS ? this.drain() : undefined;
  }

  /** Write, publish and index everything (see `finish`), and resolve once it is all done. */
  async commit(): Promise<IngestStats> {
    const { stats, durable } = await this.finish();
    await durable;
    return stats;
  }

  /**
   * Write the remaining chunks and answer; `durable` then publishes the packs (fsync, see the
   * store) and indexes everything in one batch, so a caller may reply before the disk flush.
   * The batch is not synced on its own: the packs it points to are already durable, so the worst
   * a power loss can do is drop index entries, which no durable commit can refer to yet (a
   * commit's own synced batch flushes LevelDB's sequential log, these entries included). A client
   * whose entries were lost gets E_CHUNKS_MISSING at commit and uploads them again. Skipping this
   * sync saves one disk flush per upload request (~10 ms each here). A failure here discards what
   * was written; one in `durable` leaves the packs that did publish unindexed (never referenced).
   */
  async finish(): Promise<{ stats: IngestStats; durable: Promise<void> }> {
    try {
      await this.drain();
      await this.writer.flush();
    } catch (err) {
      await this.discard();
      throw err;
    }
    const durable = (async () => {
      await this.writer.publish();
      // The entries are made here, after the flush, and go straight into LevelDB's batch (which
      // copies them): made before it, as they were, 200k keys and values of a 100k-file put sat
      // through the flush, were promoted to V8's old generation, and waited there for a full
      // collection.
      const batch = this.meta.openBatch();
      try {
        for (const [hash, loc] of this.writer.locations()) batch.put(keys.chunk(hash), encodeLocation(loc));
        for (const [hash, length] of this.seen) batch.put(keys.repoChunk(this.repo, hash), String(length));
      } catch (err) {
        batch.discard(); // a put refused (the store was reopened meanwhile): the batch goes unwritten
        throw err;
      }
      await batch.write({ sync: false });
    })();
    return { stats: this.stats, durable };
  }

  /** Every chunk this ingest will mark present for its repo once durable (stored or deduplicated). */
  get hashes(): ChunkSet {
    return this.seen;
  }

  /** Drop packs written but not published (an upload that failed part way); never throws. */
  discard(): Promise<void> {
    return this.writer.discard();
  }

  /** Move staged chunks the store lacks into the pack writer; count the rest as deduplicated. */
  private async drain(): Promise<void> {
    const staged = this.staged;
    this.staged = [];
    this.stagedBytes = 0;
    if (staged.length === 0) return;
    // A chunk marked damaged counts as absent: this upload's verified bytes replace it.
    const lookup = async (hashes: readonly ChunkHash[]) =>
      (await this.meta.getMany(hashes.map((h) => keys.chunk(h)))).map((v) => (v === undefined || isDamaged(v) ? undefined : v));
    const hashes = staged.map((c) => c.hash);
    const pending = this.pending;
    let known = pending ? await pending.readIndex(hashes, lookup) : await lookup(hashes);
    if (pending && staged.some((c, i) => known[i] === undefined && pending.holds(c.hash))) {
      // Stored by an upload still being flushed (any repo): indexed once it settles, or, if it
      // failed, still unknown and stored here.
      await pending.settled();
      known = await lookup(hashes);
    }
    for (let i = 0; i < staged.length; i++) {
      const { hash, parts, length, verified } = staged[i]!;
      if (known[i] !== undefined) {
        if (!verified) checkChunk(hash, blake3HexParts(parts));
        this.stats.deduplicated++;
        continue;
      }
      await this.writer.addParts(hash, parts, length, !verified);
      this.stats.stored++;
      this.stats.storedBytes += length;
    }
  }
}
