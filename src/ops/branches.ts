/** Branches: create at a ref (or empty), list, inspect, delete. */
import { fail } from '../errors.js';
import { keys } from '../meta/keys.js';
import type { MetaOp } from '../meta/meta-store.js';
import { getBranch, putBranchOp, requireBranch, requireRepo, type BranchRecord } from '../meta/records.js';
import { refuseShadowingBranch, resolveRef } from '../refs/resolve.js';
import type { BranchName, RepoName } from '../types.js';
import { repoLockKey, type EngineContext } from './context.js';
import { decodeCursor, encodeCursor, pageLimit, type Page, type PageOptions } from './paging.js';

export async function createBranch(ctx: EngineContext, repo: RepoName, name: BranchName, headRef?: string): Promise<BranchRecord> {
  await requireRepo(ctx.meta, repo);
  const head = headRef === undefined ? null : (await resolveRef(ctx.meta, repo, headRef)).id;
  return ctx.locks.run(repoLockKey(repo), async () => {
    await requireRepo(ctx.meta, repo);
    if (await getBranch(ctx.meta, repo, name)) throw fail('E_BRANCH_EXISTS', `branch "${name}" already exists in repo "${repo}"`, { repo, branch: name });
    await refuseShadowingBranch(ctx.meta, repo, name);
    const record: BranchRecord = { name, head, createdAt: ctx.now().toISOString() };
    const ops: MetaOp[] = [putBranchOp(repo, record), ...(ctx.options.onBranchOps?.({ repo, branch: name, event: 'created', head }) ?? [])];
    await ctx.meta.batch(ops, { sync: true });
    ctx.options.afterWrite?.();
    return record;
  });
}

export async function inspectBranch(ctx: EngineContext, repo: RepoName, name: BranchName): Promise<BranchRecord> {
  await requireRepo(ctx.meta, repo);
  return requireBranch(ctx.meta, repo, name);
}

export async function listBranches(ctx: EngineContext, repo: RepoName, page: PageOptions = {}): Promise<Page<BranchRecord>> {
  await requireRepo(ctx.meta, repo);
  const limit = pageLimit(page.limit);
  const after = decodeCursor(page.cursor);
  const items: BranchRecord[] = [];
  const range = keys.branchRange(repo);
  for await (const [, value] of ctx.meta.entries({ ...range, gt: after ? keys.branch(repo, after as BranchName) : undefined, limit: limit + 1 })) {
    items.push(JSON.parse(value) as BranchRecord);
  }
  const more = items.length > limit;
  items.length = Math.min(items.length, limit);
  return { items, nextCursor: more ? encodeCursor(items[items.length - 1]!.name) : null };
}

export async function deleteBranch(ctx: EngineContext, repo: RepoName, name: BranchName): Promise<void> {
  await ctx.locks.run(repoLockKey(repo), async () => {
    await requireRepo(ctx.meta, repo);
    const record = await requireBranch(ctx.meta, repo, name);
    const ops: MetaOp[] = [
      { type: 'del', key: keys.branch(repo, name) },
      ...(ctx.options.onBranchOps?.({ repo, branch: name, event: 'deleted', head: record.head }) ?? []),
    ];
    await ctx.meta.batch(ops, { sync: true });
    ctx.options.afterWrite?.();
  });
}

