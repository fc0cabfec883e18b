/**
 * Uploads already answered whose packs are still being made durable and indexed (ChunkIngest's
 * `durable`). Answering before the fsync lets the disk flush of one request overlap the transfer
 * of the next: with one flush per request in the client's path, a 1 GB put spent ~1.3 s of its
 * ~6 s waiting on them here.
 *
 * What an answered upload promises is kept: its chunks count as present for the repo (so the
 * client does not send them again), and anything that depends on them being in the store (a
 * commit, a chunk read, deleting the repo) first waits for the repo's pending uploads. If one
 * fails, its chunks are simply not present: the commit gets E_CHUNKS_MISSING and the client
 * uploads them again. A crash before then loses only chunks no acknowledged commit refers to.
 */
import type { ChunkHash, RepoName } from '../types.js';

interface Pending {
  hashes: ReadonlySet<ChunkHash>;
  done: Promise<void>;
}

/** Answered-but-unflushed uploads per repo before the next answer waits for the oldest (memory and dirty pages stay bounded when the disk is slower than the network). */
const MAX_PENDING_PER_REPO = 4;

export class PendingUploads {
  private readonly repos = new Map<RepoName, Set<Pending>>();
  private settledSoFar = 0;

  /** Hears of a pending upload that failed (its chunks are then not present); the server logs it. */
  onError: (err: unknown, repo: RepoName) => void = () => {};

  /**
   * Track `durable` for `repo` until it settles; resolves at once unless the repo already has
   * MAX_PENDING_PER_REPO pending, then once the oldest has settled.
   */
  async track(repo: RepoName, hashes: ReadonlySet<ChunkHash>, durable: Promise<void>): Promise<void> {
    let set = this.repos.get(repo);
    if (!set) this.repos.set(repo, (set = new Set()));
    const pending: Pending = {
      hashes,
      done: durable.then(
        () => this.forget(repo, pending),
        (err: unknown) => {
          this.forget(repo, pending);
          this.onError(err, repo);
        },
      ),
    };
    set.add(pending);
    if (set.size > MAX_PENDING_PER_REPO) await set.values().next().value!.done;
  }

  /** Whether a pending upload of `repo` (of any repo when omitted) carries `hash`. */
  holds(hash: ChunkHash, repo?: RepoName): boolean {
    // Asked per chunk the store lacks, by the hash-list check and again on upload (up to 200k
    // times in a 100k-file put): no array per call, nothing to look through once flushed.
    if (repo !== undefined) return this.repoHolds(this.repos.get(repo), hash);
    for (const set of this.repos.values()) if (this.repoHolds(set, hash)) return true;
    return false;
  }

  private repoHolds(set: ReadonlySet<Pending> | undefined, hash: ChunkHash): boolean {
    if (set) for (const p of set) if (p.hashes.has(hash)) return true;
    return false;
  }

  /**
   * How many pending uploads have settled so far. A presence check reads the index, then asks
   * `holds` for what it lacked; an upload indexed and forgotten in between is in neither answer.
   * Taken before the read and compared after, this says when the lacking ones must be read again.
   */
  get settledCount(): number {
    return this.settledSoFar;
  }

  /** Resolves once every upload of `repo` (of every repo when omitted) pending now has settled; never rejects. */
  async settled(repo?: RepoName): Promise<void> {
    const sets = repo === undefined ? [...this.repos.values()] : [this.repos.get(repo) ?? new Set<Pending>()];
    await Promise.all(sets.flatMap((set) => [...set].map((p) => p.done)));
  }

  private forget(repo: RepoName, pending: Pending): void {
    this.settledSoFar++;
    const set = this.repos.get(repo);
    if (!set) return;
    set.delete(pending);
    if (set.size === 0) this.repos.delete(repo);
  }
}
