/**
 * The one way a branch head moves forward. The new trees are built off the current head outside
 * any lock; then, under the repo lock, the head is compared with the one built on (compare-and-
 * swap). If it moved: a caller that named an expected parent gets 409, anyone else has the changes
 * re-applied on the new head, so concurrent writers never lose each other's commits.
 *
 * Changes arrive as an iterable (a parsed JSON array) or an async iterable (lines of a streamed
 * body) and are read once, in groups (stage-changes.ts); the re-apply needs only the edit trie.
 */
import { fail } from '../errors.js';
import { makeCommit, type Commit } from '../objects/commit.js';
import { EMPTY_TREE_ID } from '../objects/tree.js';
import type { MetaOp } from '../meta/meta-store.js';
import { getBranch, putBranchOp, putCommitOp, putTreeOp, requireCommit, requireRepo, type BranchRecord } from '../meta/records.js';
import { refuseShadowingBranch } from '../refs/resolve.js';
import type { BranchName, CommitId, RepoName } from '../types.js';
import { repoLockKey, type EngineContext } from './context.js';
import { stageChanges, type Change, type StagedChanges } from './stage-changes.js';
import { RecordWriter } from './record-writer.js';
import { applyEdits } from './tree-edit.js';

export type { Change } from './stage-changes.js';

export interface CommitRequest {
  repo: RepoName;
  branch: BranchName;
  /**
   * Read once, lazily: an array, or a stream of batches (as an NDJSON body's lines are parsed,
   * see server/commit-body.ts) whose errors reject the commit.
   */
  changes: Iterable<Change> | AsyncIterable<readonly Change[]>;
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
  // Checked again under the lock; checking first spares reading a long stream that must fail.
  await currentBranch(ctx, req);
  const records = new RecordWriter(ctx.meta);
  try {
    return await stageAndApply(ctx, req, records);
  } finally {
    records.discard();
  }
}

async function stageAndApply(ctx: EngineContext, req: CommitRequest, records: RecordWriter): Promise<CommitResult> {
  const staged = await stageChanges(ctx, req, records);
  // A warn-mode contract marks the commit itself (and so every event about it).
  const metadata = staged.warnings.length > 0 ? { ...req.metadata, contractWarnings: staged.warnings } : req.metadata;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const branch = await currentBranch(ctx, req);
    const head = branch?.head ?? null;
    const base = head ? await requireCommit(ctx.meta, req.repo, head) : null;
    const root = await applyEdits(ctx.trees, base?.tree ?? EMPTY_TREE_ID, staged.trie, (id, body) => records.add(putTreeOp(id, body)));
    await records.settle(); // outside the lock: only the last, partly filled batch is written under it
    const outcome = await ctx.locks.run(repoLockKey(req.repo), async () => {
      const current = await getBranch(ctx.meta, req.repo, req.branch);
      if ((current?.head ?? null) !== head || (current === undefined) !== (branch === undefined)) return 'moved' as const;
      await requireRepo(ctx.meta, req.repo);
      return writeCommit(ctx, { ...req, metadata }, { branch, base, root, staged, records });
    });
    if (outcome !== 'moved') return outcome;
    if (req.parent !== undefined) checkExpectedParent(req, (await getBranch(ctx.meta, req.repo, req.branch))?.head ?? null);
  }
  throw fail('E_CONFLICT', `branch "${req.branch}" kept moving; gave up after ${MAX_ATTEMPTS} attempts`);
}

/** The branch as it is now, if the request may be applied to it (404 when it must exist, 409 on another parent). */
async function currentBranch(ctx: EngineContext, req: CommitRequest): Promise<BranchRecord | undefined> {
  const branch = await getBranch(ctx.meta, req.repo, req.branch);
  if (!branch && req.createBranch === false) {
    throw fail('E_BRANCH_NOT_FOUND', `branch "${req.branch}" not found in repo "${req.repo}"`, { repo: req.repo, branch: req.branch });
  }
  if (!branch) await refuseShadowingBranch(ctx.meta, req.repo, req.branch);
  checkExpectedParent(req, branch?.head ?? null);
  return branch;
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
  staged: StagedChanges;
  /** Its records not yet written go in the commit's batch. */
  records: RecordWriter;
}

/**
 * Runs under the repo lock with the head verified unchanged: one synced batch, all or nothing. It
 * completes the batch of records still unwritten; the earlier records are on disk already
 * (content-addressed, referenced by nothing before this batch; see record-writer.ts).
 */
async function writeCommit(ctx: EngineContext, req: CommitRequest, b: Built): Promise<CommitResult> {
  const createdAt = ctx.now().toISOString();
  const branchRecord: BranchRecord = b.branch ?? { name: req.branch, head: null, createdAt };
  const ops: MetaOp[] = [];
  if (!b.branch) {
    ops.push(putBranchOp(req.repo, branchRecord));
    ops.push(...(ctx.options.onBranchOps?.({ repo: req.repo, branch: req.branch, event: 'created', head: null }) ?? []));
  }
  if (b.root === (b.base?.tree ?? EMPTY_TREE_ID)) {
    await b.records.writeWith(ops);
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
  ops.push(putCommitOp(req.repo, commit));
  const moved: BranchRecord = { ...branchRecord, head: commit.id };
  ops.push(putBranchOp(req.repo, moved));
  const hookInput = { repo: req.repo, branch: req.branch, commit, changes: b.staged.listed, changeCount: b.staged.count };
  ops.push(...(ctx.options.onCommitOps?.(hookInput) ?? []));
  await b.records.writeWith(ops);
  ctx.options.afterWrite?.();
  return { created: true, commit, branch: moved };
}

