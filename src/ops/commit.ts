/**
 * The one way a branch head moves forward. The new trees are built off the current head outside
 * any lock; then, under the repo lock, the head is compared with the one built on (compare-and-
 * swap). If it moved: a caller that named an expected parent gets 409, anyone else has the changes
 * re-applied on the new head, so concurrent writers never lose each other's commits.
 */
import { fail } from '../errors.js';
import { makeCommit, type Commit } from '../objects/commit.js';
import { manifestId, type Manifest } from '../objects/manifest.js';
import { EMPTY_TREE_ID, type Tree } from '../objects/tree.js';
import { keys } from '../meta/keys.js';
import type { MetaOp } from '../meta/meta-store.js';
import {
  getBranch, putBranchOp, putCommitOp, putManifestOp, putTreeOp, requireCommit, requireRepo, type BranchRecord,
} from '../meta/records.js';
import type { BranchName, ChunkHash, CommitId, RepoName, RepoPath } from '../types.js';
import { repoLockKey, type EngineContext } from './context.js';
import { gateCommit } from './contracts.js';
import { applyEdits, buildEditTrie, type TreeEdit } from './tree-edit.js';

export type Change = { op: 'put'; path: RepoPath; manifest: Manifest } | { op: 'delete'; path: RepoPath };

export interface CommitRequest {
  repo: RepoName;
  branch: BranchName;
  changes: readonly Change[];
  message: string;
  author: string;
  metadata?: Record<string, unknown>;
  /** Expected current head; null expects a branch with no commits; undefined applies to any head. */
  parent?: CommitId | null;
  /** Create the branch when missing (default true). */
  createBranch?: boolean;
}

export interface CommitResult {
  created: boolean;
  /** The new commit, or the unchanged head when nothing changed (null on a branch with no commits). */
  commit: Commit | null;
  branch: BranchRecord;
}

const MAX_ATTEMPTS = 50;

export async function commitChanges(ctx: EngineContext, req: CommitRequest): Promise<CommitResult> {
  await requireRepo(ctx.meta, req.repo);
  const manifests = new Map<string, Manifest>();
  const edits: TreeEdit[] = req.changes.map((c) => {
    if (c.op === 'delete') return c;
    const id = manifestId(c.manifest);
    manifests.set(id, c.manifest);
    return { op: 'put', path: c.path, size: c.manifest.size, hash: c.manifest.hash, manifest: id };
  });
  const trie = buildEditTrie(edits);
  await requireChunksPresent(ctx, req.repo, manifests.values());
  const gate = await gateCommit(ctx, req.repo, req.branch, req.changes.flatMap((c) => (c.op === 'put' ? [c] : [])));
  // A warn-mode contract marks the commit itself (and so every event about it).
  const metadata = gate.warnings.length > 0 ? { ...req.metadata, contractWarnings: gate.warnings } : req.metadata;

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const branch = await getBranch(ctx.meta, req.repo, req.branch);
    if (!branch && req.createBranch === false) {
      throw fail('E_BRANCH_NOT_FOUND', `branch "${req.branch}" not found in repo "${req.repo}"`, { repo: req.repo, branch: req.branch });
    }
    const head = branch?.head ?? null;
    checkExpectedParent(req, head);
    const base = head ? await requireCommit(ctx.meta, req.repo, head) : null;
    const written = new Map<string, Tree>();
    const root = await applyEdits(ctx.trees, base?.tree ?? EMPTY_TREE_ID, trie, written);
    const outcome = await ctx.locks.run(repoLockKey(req.repo), async () => {
      const current = await getBranch(ctx.meta, req.repo, req.branch);
      if ((current?.head ?? null) !== head || (current === undefined) !== (branch === undefined)) return 'moved' as const;
      await requireRepo(ctx.meta, req.repo);
      return writeCommit(ctx, { ...req, metadata }, { branch, base, root, written, manifests, extraOps: gate.ops });
    });
    if (outcome !== 'moved') return outcome;
    if (req.parent !== undefined) checkExpectedParent(req, (await getBranch(ctx.meta, req.repo, req.branch))?.head ?? null);
  }
  throw fail('E_CONFLICT', `branch "${req.branch}" kept moving; gave up after ${MAX_ATTEMPTS} attempts`);
}

function checkExpectedParent(req: CommitRequest, head: CommitId | null): void {
  if (req.parent === undefined || req.parent === head) return;
  throw fail(
    'E_CONFLICT',
    `branch "${req.branch}" is at ${head ?? 'no commit'}, not the expected parent ${req.parent ?? 'no commit'}`,
    { repo: req.repo, branch: req.branch, expected: req.parent, actual: head },
  );
}

interface Built {
  branch: BranchRecord | undefined;
  base: Commit | null;
  root: string;
  written: Map<string, Tree>;
  manifests: Map<string, Manifest>;
  /** Derived records written with the commit (Parquet metadata). */
  extraOps: MetaOp[];
}

/** Runs under the repo lock with the head verified unchanged: one synced batch, all or nothing. */
async function writeCommit(ctx: EngineContext, req: CommitRequest, b: Built): Promise<CommitResult> {
  const createdAt = ctx.now().toISOString();
  const branchRecord: BranchRecord = b.branch ?? { name: req.branch, head: null, createdAt };
  const ops: MetaOp[] = [];
  if (!b.branch) {
    ops.push(putBranchOp(req.repo, branchRecord));
    ops.push(...(ctx.options.onBranchOps?.({ repo: req.repo, branch: req.branch, event: 'created', head: null }) ?? []));
  }
  if (b.root === (b.base?.tree ?? EMPTY_TREE_ID)) {
    await ctx.meta.batch(ops, { sync: true });
    if (ops.length > 0) ctx.options.afterWrite?.();
    return { created: false, commit: b.base, branch: branchRecord };
  }
  const commit = makeCommit({
    parents: b.base ? [b.base.id] : [],
    tree: b.root,
    author: req.author,
    message: req.message,
    createdAt,
    metadata: req.metadata ?? {},
  });
  for (const [id, tree] of b.written) ops.push(putTreeOp(id, tree));
  for (const [id, manifest] of b.manifests) ops.push(putManifestOp(id, manifest));
  ops.push(...b.extraOps);
  ops.push(putCommitOp(req.repo, commit));
  const moved: BranchRecord = { ...branchRecord, head: commit.id };
  ops.push(putBranchOp(req.repo, moved));
  ops.push(...(ctx.options.onCommitOps?.({ repo: req.repo, branch: req.branch, commit, changes: summarize(req.changes) }) ?? []));
  await ctx.meta.batch(ops, { sync: true });
  ctx.options.afterWrite?.();
  return { created: true, commit, branch: moved };
}

function summarize(changes: readonly Change[]) {
  return changes.map((c) => (c.op === 'put' ? { op: c.op, path: c.path, size: c.manifest.size, hash: c.manifest.hash } : { op: c.op, path: c.path }));
}

const MISSING_REPORT_LIMIT = 100;

/** Every chunk a manifest names must be one this repo uploaded or referenced. */
async function requireChunksPresent(ctx: EngineContext, repo: RepoName, manifests: Iterable<Manifest>): Promise<void> {
  const unique = new Set<ChunkHash>();
  for (const m of manifests) for (const [hash] of m.chunks) unique.add(hash);
  const hashes = [...unique];
  const present = await ctx.meta.getMany(hashes.map((h) => keys.repoChunk(repo, h)));
  const missing = hashes.filter((_, i) => present[i] === undefined);
  if (missing.length > 0) {
    throw fail('E_CHUNKS_MISSING', `${missing.length} chunk(s) referenced by the commit are not in repo "${repo}"; upload them first`, {
      missing: missing.slice(0, MISSING_REPORT_LIMIT),
      count: missing.length,
    });
  }
}
