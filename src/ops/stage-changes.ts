/**
 * The streamed half of a commit: its changes are read once, in groups of STAGE_GROUP, and only
 * what the tree edit needs (path, size, hash, manifest id) is kept, in the edit trie. Per group:
 * manifest ids, chunk presence (one getMany), the contract gate; the group's manifest records (but
 * not implied ones, which readers rebuild from the tree entry) and Parquet metadata records then go
 * to the store ahead of the commit (record-writer.ts). Memory is bounded by the group, the trie
 * and the findings, whatever the number of files.
 */
import { fail } from '../errors.js';
import { keys } from '../meta/keys.js';
import { putManifestOp } from '../meta/records.js';
import { objectId } from '../objects/canonical.js';
import { encodeManifest, impliedManifestId, type Manifest } from '../objects/manifest.js';
import { presentFor } from '../packs/chunk-location.js';
import type { BranchName, ChunkHash, RepoName, RepoPath } from '../types.js';
import { inGroups } from '../util/groups.js';
import type { CommitHookChange, EngineContext } from './context.js';
import { ContractGate, type GatedPut } from './contracts.js';
import type { RecordWriter } from './record-writer.js';
import { EditTrie, type TreeEdit } from './tree-edit.js';

export type Change = { op: 'put'; path: RepoPath; manifest: Manifest } | { op: 'delete'; path: RepoPath };

/**
 * Changes per group: one getMany each. Small on purpose: a group's parsed changes are alive while
 * it is checked, and whatever survives two scavenges is promoted, to sit in the old generation
 * until a full collection (measured: 2048 a group peaked ~25 MB higher for 100k files).
 */
export const STAGE_GROUP = 512;
/** Changes listed to onCommitOps; events are rebuilt from the diff at delivery, so this is a sample. */
const SUMMARY_LIMIT = 100;

export interface StagedChanges {
  trie: EditTrie;
  /** The first changes and the total, for onCommitOps. */
  listed: CommitHookChange[];
  count: number;
  /** Findings of `warn` contracts, for the commit's metadata. */
  warnings: string[];
}

interface StagedPut extends GatedPut {
  path: RepoPath;
  /**
   * The manifest's encoding, hashed into its id and stored as is; undefined for an implied
   * manifest (isImpliedManifest), which is not stored: readers rebuild it from the tree entry.
   */
  body: string | undefined;
}

/** Records go to `records`: written as its batches fill, the rest with the commit. */
export async function stageChanges(
  ctx: EngineContext, req: { repo: RepoName; branch: BranchName; changes: Iterable<Change> | AsyncIterable<readonly Change[]> }, records: RecordWriter,
): Promise<StagedChanges> {
  const { repo, branch, changes } = req;
  const trie = new EditTrie();
  const listed: CommitHookChange[] = [];
  let count = 0;
  const gate = await ContractGate.open(ctx, repo, branch);
  const missing = new MissingChunks();
  for await (const group of inGroups(changes, STAGE_GROUP)) {
    const puts: StagedPut[] = [];
    for (const change of group) {
      if (change.op === 'put') {
        const put = stagePut(change);
        trie.add(editOf(put));
        puts.push(put);
      } else {
        trie.add(change);
      }
      if (listed.length < SUMMARY_LIMIT) listed.push(summaryOf(change));
      count++;
    }
    await missing.check(ctx, repo, puts);
    // A commit with missing chunks fails; reading on only completes the list of what is missing.
    if (missing.any()) continue;
    for (const put of puts) if (put.body !== undefined) await records.add(putManifestOp(put.manifestId, put.body));
    for (const op of await gate.check(puts)) await records.add(op);
  }
  missing.throwIfAny(repo);
  return { trie, listed, count, warnings: gate.finish() };
}

function stagePut(change: Extract<Change, { op: 'put' }>): StagedPut {
  const implied = impliedManifestId(change.manifest); // validated, so its hashes are hex
  if (implied !== undefined) return { path: change.path, manifest: change.manifest, manifestId: implied, body: undefined };
  const body = encodeManifest(change.manifest);
  return { path: change.path, manifest: change.manifest, manifestId: objectId('manifest', body), body };
}

function editOf(put: StagedPut): TreeEdit {
  return { op: 'put', path: put.path, size: put.manifest.size, hash: put.manifest.hash, manifest: put.manifestId };
}

function summaryOf(c: Change): CommitHookChange {
  return c.op === 'put' ? { op: c.op, path: c.path, size: c.manifest.size, hash: c.manifest.hash } : { op: c.op, path: c.path };
}

/**
 * A manifest's chunk sizes must be the stored chunks' lengths: the file's bytes are read back by
 * them, so a wrong size would serve fewer or other bytes than the manifest (and its Content-Length)
 * promise, which only a client that re-hashes would notice.
 */
function checkChunkLengths(puts: readonly StagedPut[], stored: ReadonlyMap<ChunkHash, number>): void {
  if (stored.size === 0) return;
  for (const put of puts) {
    for (const [hash, size] of put.manifest.chunks) {
      const length = stored.get(hash);
      if (length === undefined || length === size) continue;
      throw fail('E_INVALID_MANIFEST', `manifest for ${put.path}: chunk ${hash} is ${length} bytes in the store, not ${size}`, {
        path: put.path, chunk: hash, size, storedLength: length,
      });
    }
  }
}

const MISSING_REPORT_LIMIT = 100;
/** Distinct missing chunks counted exactly up to here; a body of junk cannot grow the set further. */
const MISSING_COUNT_LIMIT = 100_000;

/** Every chunk a manifest names must be one this repo uploaded or referenced. */
class MissingChunks {
  private readonly hashes = new Set<ChunkHash>();

  async check(ctx: EngineContext, repo: RepoName, puts: readonly StagedPut[]): Promise<void> {
    if (this.hashes.size >= MISSING_COUNT_LIMIT) return;
    const unique = new Set<ChunkHash>();
    for (const p of puts) for (const [hash] of p.manifest.chunks) unique.add(hash);
    const hashes = [...unique];
    // A chunk found damaged counts as missing: the commit fails until the repo sends it again.
    const read = async (hs: readonly ChunkHash[]) => (await ctx.meta.getMany(hs.map((h) => keys.repoChunk(repo, h)))).map(presentFor);
    const present = await ctx.pending.readIndex(hashes, read);
    // The chunks of uploads already answered must be durable and indexed before a commit names
    // them, and an answered upload may still be flushing: whether it was answered before this
    // commit began or while its lines streamed in (as `datactl put` sends them), wait for it here.
    if (hashes.some((h, i) => present[i] === undefined && ctx.pending.holds(h, repo))) {
      await ctx.pending.settled(repo);
      const again = hashes.flatMap((_, i) => (present[i] === undefined ? [i] : []));
      const values = await read(again.map((i) => hashes[i]!));
      again.forEach((at, j) => (present[at] = values[j]));
    }
    const stored = new Map<ChunkHash, number>();
    hashes.forEach((h, i) => {
      const value = present[i];
      if (value === undefined) {
        if (this.hashes.size < MISSING_COUNT_LIMIT) this.hashes.add(h);
      } else if (value !== '') {
        stored.set(h, Number(value)); // presence recorded before lengths were ('') is not checked
      }
    });
    checkChunkLengths(puts, stored);
  }

  any(): boolean {
    return this.hashes.size > 0;
  }

  throwIfAny(repo: RepoName): void {
    if (this.hashes.size === 0) return;
    const count = this.hashes.size;
    const atLeast = count >= MISSING_COUNT_LIMIT ? 'at least ' : '';
    const missing: ChunkHash[] = [];
    for (const h of this.hashes) {
      if (missing.length === MISSING_REPORT_LIMIT) break;
      missing.push(h);
    }
    throw fail('E_CHUNKS_MISSING', `${atLeast}${count} chunk(s) referenced by the commit are not in repo "${repo}"; upload them first`, {
      missing,
      count,
    });
  }
}
