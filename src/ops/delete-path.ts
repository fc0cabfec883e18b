/** Delete a file or a whole directory on a branch, as a new commit. */
import { requireBranch, requireRepo } from '../meta/records.js';
import type { BranchName, RepoName, RepoPath } from '../types.js';
import { commitChanges, type CommitResult } from './commit.js';
import type { EngineContext } from './context.js';

export async function deletePath(
  ctx: EngineContext, repo: RepoName, branch: BranchName, path: RepoPath, message: string, author: string,
): Promise<CommitResult> {
  await requireRepo(ctx.meta, repo);
  await requireBranch(ctx.meta, repo, branch);
  return commitChanges(ctx, { repo, branch, changes: [{ op: 'delete', path }], message, author, createBranch: false });
}
