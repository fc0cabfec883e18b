/** API shapes of engine records (what clients see), kept apart from storage shapes. */
import type { Commit } from '../src/objects/commit.js';
import type { RepoName } from '../src/types.js';

export function commitView(repo: RepoName, c: Commit) {
  return { id: c.id, repo, parents: c.parents, tree: c.tree, author: c.author, message: c.message, createdAt: c.createdAt, metadata: c.metadata };
}
