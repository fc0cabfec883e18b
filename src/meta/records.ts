/**
 * Typed reads and write-ops for every record kind. Reads verify what they can: a tree, manifest or
 * commit whose bytes do not hash to its id is reported as corruption, never used.
 */
import { fail } from '../errors.js';
import { commitId, type Commit } from '../objects/commit.js';
import { objectId } from '../objects/canonical.js';
import { impliedManifest, type Manifest, type ManifestRef } from '../objects/manifest.js';
import { decodeTree, EMPTY_TREE, EMPTY_TREE_ID, type Tree } from '../objects/tree.js';
import type { BranchName, CommitId, RepoName } from '../types.js';
import { keys } from './keys.js';
import type { MetaOp, MetaStore } from './meta-store.js';

export interface RepoRecord {
  name: RepoName;
  description: string;
  createdAt: string;
}

export interface BranchRecord {
  name: BranchName;
  head: CommitId | null;
  createdAt: string;
}

export async function getRepo(meta: MetaStore, repo: RepoName): Promise<RepoRecord | undefined> {
  const v = await meta.get(keys.repo(repo));
  return v === undefined ? undefined : (JSON.parse(v) as RepoRecord);
}

export async function requireRepo(meta: MetaStore, repo: RepoName): Promise<RepoRecord> {
  const record = await getRepo(meta, repo);
  if (!record) throw fail('E_REPO_NOT_FOUND', `repo "${repo}" not found`, { repo });
  return record;
}

export async function getBranch(meta: MetaStore, repo: RepoName, branch: BranchName): Promise<BranchRecord | undefined> {
  const v = await meta.get(keys.branch(repo, branch));
  return v === undefined ? undefined : (JSON.parse(v) as BranchRecord);
}

export async function requireBranch(meta: MetaStore, repo: RepoName, branch: BranchName): Promise<BranchRecord> {
  const record = await getBranch(meta, repo, branch);
  if (!record) throw fail('E_BRANCH_NOT_FOUND', `branch "${branch}" not found in repo "${repo}"`, { repo, branch });
  return record;
}

export function putBranchOp(repo: RepoName, record: BranchRecord): MetaOp {
  return { type: 'put', key: keys.branch(repo, record.name), value: JSON.stringify(record) };
}

export async function getCommit(meta: MetaStore, repo: RepoName, id: CommitId): Promise<Commit | undefined> {
  const v = await meta.get(keys.commit(repo, id));
  if (v === undefined) return undefined;
  const commit = JSON.parse(v) as Commit;
  if (commitId(commit) !== id) throw fail('E_CORRUPT_OBJECT', `commit ${id} in repo "${repo}" does not match its id`);
  return commit;
}

export async function requireCommit(meta: MetaStore, repo: RepoName, id: CommitId): Promise<Commit> {
  const commit = await getCommit(meta, repo, id);
  if (!commit) throw fail('E_COMMIT_NOT_FOUND', `commit ${id} not found in repo "${repo}"`, { repo, commit: id });
  return commit;
}

export function putCommitOp(repo: RepoName, commit: Commit): MetaOp {
  return { type: 'put', key: keys.commit(repo, commit.id), value: JSON.stringify(commit) };
}

/** `body` is the tree's encoding the caller hashed into `id` (encoded once per commit, not twice). */
export function putTreeOp(id: string, body: string): MetaOp {
  return { type: 'put', key: keys.tree(id), value: body };
}

/** `body` is the manifest's encoding the caller hashed into `id` (not called for implied manifests). */
export function putManifestOp(id: string, body: string): MetaOp {
  return { type: 'put', key: keys.manifest(id), value: body };
}

/** A file entry's manifest: rebuilt when implied (no read), else the stored record. */
export async function getManifest(meta: MetaStore, ref: ManifestRef): Promise<Manifest> {
  return impliedManifest(ref) ?? parseManifest(ref.manifest, await meta.get(keys.manifest(ref.manifest)));
}

/** Several entries' manifests with at most one store round trip (a directory listing with chunk lists). */
export async function getManifests(meta: MetaStore, refs: readonly ManifestRef[]): Promise<Manifest[]> {
  const found = refs.map(impliedManifest);
  const stored = refs.filter((_, i) => found[i] === undefined).map((r) => r.manifest);
  if (stored.length === 0) return found as Manifest[];
  const values = await meta.getMany(stored.map(keys.manifest));
  let k = 0;
  return found.map((m) => m ?? parseManifest(stored[k]!, values[k++]));
}

function parseManifest(id: string, v: string | undefined): Manifest {
  if (v === undefined) throw fail('E_OBJECT_NOT_FOUND', `manifest ${id} is referenced but missing`);
  if (objectId('manifest', v) !== id) throw fail('E_CORRUPT_OBJECT', `manifest ${id} does not match its id`);
  return JSON.parse(v) as Manifest;
}

/**
 * Decoded trees by id. Trees are immutable, so a cache needs no invalidation. Bounded by entry
 * count: a decoded entry holds ~300 bytes (two 64-digit ids, a name, a size), so 200k entries kept
 * ~55 MB of server heap alive after a 100k-file get; 32k keep ~10 MB. The tree added last always
 * stays, however large, so paging through one huge directory decodes it once.
 */
export class TreeCache {
  private readonly cache = new Map<string, Tree>();
  private cachedEntries = 0;

  constructor(
    private readonly meta: MetaStore,
    private readonly maxEntries = 32_768,
  ) {}

  async get(id: string): Promise<Tree> {
    if (id === EMPTY_TREE_ID) return EMPTY_TREE;
    const hit = this.cache.get(id);
    if (hit) {
      this.cache.delete(id);
      this.cache.set(id, hit);
      return hit;
    }
    const v = await this.meta.get(keys.tree(id));
    if (v === undefined) throw fail('E_OBJECT_NOT_FOUND', `tree ${id} is referenced but missing`);
    if (objectId('tree', v) !== id) throw fail('E_CORRUPT_OBJECT', `tree ${id} does not match its id`);
    const tree = decodeTree(v);
    this.remember(id, tree);
    return tree;
  }

  private remember(id: string, tree: Tree): void {
    this.cache.set(id, tree);
    this.cachedEntries += tree.entries.length + 1;
    for (const [oldId, old] of this.cache) {
      if (this.cachedEntries <= this.maxEntries || oldId === id) break;
      this.cache.delete(oldId);
      this.cachedEntries -= old.entries.length + 1;
    }
  }
}
