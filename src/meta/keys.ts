/**
 * Every metadata key is built here and nowhere else. ':' separates parts; repo and branch names
 * cannot contain it (src/types.ts), and hashes are hex, so keys never collide across kinds.
 * Ranges use '\xff' as the upper bound of a prefix.
 */
import type { BranchName, ChunkHash, CommitId, RepoName } from '../types.js';

const END = '\xff';

export const keys = {
  repo: (repo: RepoName) => `r:${repo}`,
  repoRange: () => ({ gte: 'r:', lt: `r:${END}` }),

  branch: (repo: RepoName, branch: BranchName) => `b:${repo}:${branch}`,
  branchRange: (repo: RepoName) => ({ gte: `b:${repo}:`, lt: `b:${repo}:${END}` }),

  commit: (repo: RepoName, id: CommitId) => `c:${repo}:${id}`,
  /** All commits of a repo whose id starts with `prefix` (hex). */
  commitPrefixRange: (repo: RepoName, prefix: string) => ({ gte: `c:${repo}:${prefix}`, lt: `c:${repo}:${prefix}${END}` }),
  commitRange: (repo: RepoName) => ({ gte: `c:${repo}:`, lt: `c:${repo}:${END}` }),

  /** Trees and manifests are global: reachable only through a repo's commits, so sharing leaks nothing. */
  tree: (id: string) => `t:${id}`,
  manifest: (id: string) => `m:${id}`,

  /** Global chunk index: where a chunk's bytes live (pack, offset, length). */
  chunk: (hash: ChunkHash) => `k:${hash}`,
  /** Per-repo presence: the repo has uploaded or referenced this chunk (answers chunks/missing). */
  repoChunk: (repo: RepoName, hash: ChunkHash) => `p:${repo}:${hash}`,
  repoChunkRange: (repo: RepoName) => ({ gte: `p:${repo}:`, lt: `p:${repo}:${END}` }),

  /** Metadata about the metadata: schema version, chunker defaults. */
  system: (name: string) => `s:${name}`,
};

/** The last ':'-separated part of a key (the name or id it ends with). */
export function keyTail(key: string): string {
  return key.slice(key.lastIndexOf(':') + 1);
}
