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
  chunkRange: () => ({ gte: 'k:', lt: `k:${END}` }),
  /** Per-repo presence: the repo has uploaded or referenced this chunk (answers chunks/missing). */
  repoChunk: (repo: RepoName, hash: ChunkHash) => `p:${repo}:${hash}`,
  repoChunkRange: (repo: RepoName) => ({ gte: `p:${repo}:`, lt: `p:${repo}:${END}` }),

  /**
   * Webhooks (src/webhooks/). Subscription ids are UUIDs and sequence numbers are fixed-width
   * decimal (see webhookSeq), so string order is numeric order and no part contains ':'.
   * - `w:<repo>:<id>`                    the subscription (target, filters, secret)
   * - `wq:<repo>:<id>:<branch>:<seq>`    the outbox: one lane per (subscription, branch), in commit order
   * - `wd:<repo>:<id>:<seq>`             the delivery log, one record per delivery id
   * - `wi:<repo>:<id>:<deliveryId>`      delivery id -> log seq (inspect, redeliver)
   */
  webhook: (repo: RepoName, id: string) => `w:${repo}:${id}`,
  webhookRange: (repo: RepoName) => ({ gte: `w:${repo}:`, lt: `w:${repo}:${END}` }),
  allWebhooksRange: () => ({ gte: 'w:', lt: `w:${END}` }),
  webhookQueue: (repo: RepoName, id: string, branch: BranchName, seq: string) => `wq:${repo}:${id}:${branch}:${seq}`,
  webhookQueueRange: (repo: RepoName, id: string) => ({ gte: `wq:${repo}:${id}:`, lt: `wq:${repo}:${id}:${END}` }),
  webhookLaneRange: (repo: RepoName, id: string, branch: BranchName) => ({ gte: `wq:${repo}:${id}:${branch}:`, lt: `wq:${repo}:${id}:${branch}:${END}` }),
  webhookDelivery: (repo: RepoName, id: string, seq: string) => `wd:${repo}:${id}:${seq}`,
  webhookDeliveryRange: (repo: RepoName, id: string) => ({ gte: `wd:${repo}:${id}:`, lt: `wd:${repo}:${id}:${END}` }),
  webhookDeliveryIndex: (repo: RepoName, id: string, deliveryId: string) => `wi:${repo}:${id}:${deliveryId}`,
  webhookDeliveryIndexRange: (repo: RepoName, id: string) => ({ gte: `wi:${repo}:${id}:`, lt: `wi:${repo}:${id}:${END}` }),

  /** Parquet footer metadata of a file's content, by manifest id (content-addressed, computed once). */
  parquetInfo: (manifestId: string) => `q:${manifestId}`,
  /** Schema contracts: `ct:<repo>:<branch>:<path glob>`. */
  contract: (repo: RepoName, branch: BranchName, glob: string) => `ct:${repo}:${branch}:${glob}`,
  contractRange: (repo: RepoName, branch: BranchName) => ({ gte: `ct:${repo}:${branch}:`, lt: `ct:${repo}:${branch}:${END}` }),
  repoContractRange: (repo: RepoName) => ({ gte: `ct:${repo}:`, lt: `ct:${repo}:${END}` }),

  /** Metadata about the metadata: schema version, chunker defaults. */
  system: (name: string) => `s:${name}`,
};

/** The last ':'-separated part of a key (the name or id it ends with). */
export function keyTail(key: string): string {
  return key.slice(key.lastIndexOf(':') + 1);
}

/** Webhook sequence numbers as 16 zero-padded digits: string order = numeric order up to 2^53. */
export function webhookSeq(n: number): string {
  return String(n).padStart(16, '0');
}
