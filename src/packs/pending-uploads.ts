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

/** The chunks an upload carries: a set, or a map keyed by them (only membership is asked). */
export type ChunkSet = Pick<ReadonlySet<ChunkHash>, 'has'>;

interface Pending {
  hashes: ChunkSet;
  done: Promise<void>;
}

/** Answered-but-unflushed uploads per repo before the next answer waits for the oldest (memory and dirty pages stay bounded when the disk is slower than the network). */
const MAX_PENDING_PER_REPO = 4;

export class PendingUploads {
  private readonly repos = new Map<RepoName, Set<Pending>>();
  /** One list per readIndex in flight, of the chunk sets of the uploads settled since it began. */
  private readonly watchers = new Set<Array<ChunkSet>>();

  /** Hears of a pending upload that failed (its chunks are then not present); the server logs it. */
  onError: (err: unknown, repo: RepoName) => void = () => {};

  /**
   * Track `durable` for `repo` until it settles; resolves at once unless the repo already has
   * MAX_PENDING_PER_REPO pending, then once the oldest has settled.
   */
  async track(repo: RepoName, hashes: ChunkSet, durable: Promise<void>): Promise<void> {
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
   * An index read of `hashes` (`read`, values aligned with what it is given) after which `holds`
   * misses nothing. After a plain read, an upload indexed once the read had begun and forgotten
   * before `holds` is asked is in neither answer (CI once met it: a chunk reported missing right
   * after its upload was answered). So the uploads that settle during the read are noted, and
   * what the read lacked of their chunks is read again (and so on, for those settling meanwhile):
   * only those chunks, so a 100k-hash check costs one more read of a few, not of all it lacked.
   */
  async readIndex<V>(hashes: readonly ChunkHash[], read: (hashes: readonly ChunkHash[]) => Promise<(V | undefined)[]>): Promise<(V | undefined)[]> {
    const settledMeanwhile: Array<ChunkSet> = [];
    this.watchers.add(settledMeanwhile);
    try {
      const values = await read(hashes);
      while (settledMeanwhile.length > 0) {
        const settled = settledMeanwhile.splice(0);
        const again: number[] = [];
        values.forEach((v, i) => v === undefined && settled.some((s) => s.has(hashes[i]!)) && again.push(i));
        if (again.length === 0) continue;
        const answer = await read(again.map((i) => hashes[i]!));
        again.forEach((at, j) => (values[at] = answer[j]));
      }
      return values;
    } finally {
      this.watchers.delete(settledMeanwhile);
    }
  }

  /** Resolves once every upload of `repo` (of every repo when omitted) pending now has settled; never rejects. */
  async settled(repo?: RepoName): Promise<void> {
    const sets = repo === undefined ? [...this.repos.values()] : [this.repos.get(repo) ?? new Set<Pending>()];
    await Promise.all(sets.flatMap((set) => [...set].map((p) => p.done)));
  }

  private forget(repo: RepoName, pending: Pending): void {
    for (const settled of this.watchers) settled.push(pending.hashes);
    const set = this.repos.get(repo);
    if (!set) return;
    set.delete(pending);
    if (set.size === 0) this.repos.delete(repo);
  }
}
