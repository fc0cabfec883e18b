/** Repo lifecycle: create, list, inspect, delete. */
import { fail } from '../errors.js';
import { keys, keyTail } from '../meta/keys.js';
import { getRepo, requireRepo, type RepoRecord } from '../meta/records.js';
import type { RepoName } from '../types.js';
import { repoLockKey, type EngineContext } from './context.js';
import { decodeCursor, encodeCursor, pageLimit, type Page, type PageOptions } from './paging.js';

export interface RepoInfo extends RepoRecord {
  branches: number;
}

export async function createRepo(ctx: EngineContext, name: RepoName, description = ''): Promise<RepoInfo> {
  return ctx.locks.run(repoLockKey(name), async () => {
    if (await getRepo(ctx.meta, name)) throw fail('E_REPO_EXISTS', `repo "${name}" already exists`, { repo: name });
    // A delete cut short (a crash, a full disk) leaves these behind the record it removed first:
    // a new repo of the same name must not inherit its branches, commits, chunks or contracts.
    await clearRepoContents(ctx, name);
    const record: RepoRecord = { name, description, createdAt: ctx.now().toISOString() };
    await ctx.meta.batch([{ type: 'put', key: keys.repo(name), value: JSON.stringify(record) }], { sync: true });
    return { ...record, branches: 0 };
  });
}

export async function inspectRepo(ctx: EngineContext, name: RepoName): Promise<RepoInfo> {
  const record = await requireRepo(ctx.meta, name);
  let branches = 0;
  for await (const _ of ctx.meta.entries(keys.branchRange(name))) branches++;
  return { ...record, branches };
}

export async function listRepos(ctx: EngineContext, page: PageOptions = {}): Promise<Page<RepoInfo>> {
  const limit = pageLimit(page.limit);
  const after = decodeCursor(page.cursor);
  const names: RepoName[] = [];
  const range = keys.repoRange();
  for await (const [key] of ctx.meta.entries({ ...range, gt: after ? keys.repo(after as RepoName) : undefined, limit: limit + 1 })) {
    names.push(keyTail(key) as RepoName);
  }
  const more = names.length > limit;
  const items = await Promise.all(names.slice(0, limit).map((n) => inspectRepo(ctx, n)));
  return { items, nextCursor: more ? encodeCursor(items[items.length - 1]!.name) : null };
}

/**
 * Removes the repo, its branches, commits and chunk presence. Trees, manifests and packs are shared
 * content and stay (a garbage collector would reclaim the unreferenced ones).
 */
export async function deleteRepo(ctx: EngineContext, name: RepoName): Promise<void> {
  await ctx.locks.run(repoLockKey(name), async () => {
    await requireRepo(ctx.meta, name);
    // The repo record goes first so no new write can start against a half-deleted repo.
    await ctx.meta.batch([{ type: 'del', key: keys.repo(name) }], { sync: true });
    await ctx.pending.settled(name); // else their presence entries would outlive the repo
    await clearRepoContents(ctx, name);
  });
}

/** Everything kept under a repo's name but its record: branches, commits, chunk presence, contracts, webhooks. */
async function clearRepoContents(ctx: EngineContext, name: RepoName): Promise<void> {
  await ctx.meta.clear(keys.branchRange(name));
  await ctx.meta.clear(keys.commitRange(name));
  await ctx.meta.clear(keys.repoChunkRange(name));
  await ctx.meta.clear(keys.repoContractRange(name));
  await ctx.options.onRepoDelete?.(name);
}
