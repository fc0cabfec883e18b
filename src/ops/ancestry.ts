/**
 * Is one commit an ancestor of (or equal to) another? Walks every parent, breadth first, from the
 * descendant. Used to keep a pin from moving backward. Bounded so a huge history cannot stall a
 * request; past the bound the answer is "unknown", which callers treat as not-an-ancestor.
 */
import { requireCommit, requireRepo } from '../meta/records.js';
import { resolveRef } from '../refs/resolve.js';
import type { CommitId, RepoName } from '../types.js';
import type { EngineContext } from './context.js';

const MAX_VISITED = 100_000;

export interface Ancestry {
  ancestor: CommitId;
  descendant: CommitId;
  isAncestor: boolean;
  /** True when the walk hit its bound before deciding. */
  truncated: boolean;
}

export async function checkAncestry(ctx: EngineContext, repo: RepoName, ancestorRef: string, descendantRef: string): Promise<Ancestry> {
  await requireRepo(ctx.meta, repo);
  const [ancestor, descendant] = await Promise.all([resolveRef(ctx.meta, repo, ancestorRef), resolveRef(ctx.meta, repo, descendantRef)]);
  const seen = new Set<string>([descendant.id]);
  const queue: CommitId[] = [descendant.id];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (id === ancestor.id) return { ancestor: ancestor.id, descendant: descendant.id, isAncestor: true, truncated: false };
    if (seen.size > MAX_VISITED) return { ancestor: ancestor.id, descendant: descendant.id, isAncestor: false, truncated: true };
    for (const parent of (await requireCommit(ctx.meta, repo, id)).parents) {
      if (!seen.has(parent)) {
        seen.add(parent);
        queue.push(parent);
      }
    }
  }
  return { ancestor: ancestor.id, descendant: descendant.id, isAncestor: false, truncated: false };
}
