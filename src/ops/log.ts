/** First-parent commit log from a ref, newest first, paged by the id of the next commit to show. */
import type { Commit } from '../objects/commit.js';
import { requireCommit, requireRepo } from '../meta/records.js';
import { resolveRef } from '../refs/resolve.js';
import { parseCommitId, type RepoName } from '../types.js';
import type { EngineContext } from './context.js';
import { decodeCursor, encodeCursor, pageLimit, type Page, type PageOptions } from './paging.js';

export async function commitLog(ctx: EngineContext, repo: RepoName, ref: string, page: PageOptions = {}): Promise<Page<Commit>> {
  await requireRepo(ctx.meta, repo);
  const limit = pageLimit(page.limit);
  const from = decodeCursor(page.cursor);
  let commit: Commit | undefined = from ? await requireCommit(ctx.meta, repo, parseCommitId(from)) : await resolveRef(ctx.meta, repo, ref);
  const items: Commit[] = [];
  while (commit && items.length < limit) {
    items.push(commit);
    const parent: string | undefined = commit.parents[0];
    commit = parent ? await requireCommit(ctx.meta, repo, parseCommitId(parent)) : undefined;
  }
  return { items, nextCursor: commit ? encodeCursor(commit.id) : null };
}

export async function inspectCommit(ctx: EngineContext, repo: RepoName, ref: string): Promise<Commit> {
  await requireRepo(ctx.meta, repo);
  return resolveRef(ctx.meta, repo, ref);
}
