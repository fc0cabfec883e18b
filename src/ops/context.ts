/** What every operation needs: the two stores, locks, caches and configuration. */
import type { ChunkerParams } from '../chunking/params.js';
import type { Commit } from '../objects/commit.js';
import type { MetaOp, MetaStore } from '../meta/meta-store.js';
import { TreeCache } from '../meta/records.js';
import { ChunkReader } from '../packs/chunk-reader.js';
import { DEFAULT_PACK_TARGET_BYTES } from '../packs/pack-writer.js';
import { PendingUploads } from '../packs/pending-uploads.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { BranchName, RepoName } from '../types.js';
import { KeyedLock } from '../util/keyed-lock.js';

export interface CommitHookInput {
  repo: RepoName;
  branch: BranchName;
  commit: Commit;
  /**
   * The first changes of the request (at most 100, in request order): a commit may carry millions,
   * and event payloads are rebuilt from the commit's diff at delivery anyway.
   */
  changes: ReadonlyArray<CommitHookChange>;
  /** How many changes the request had in all. */
  changeCount: number;
}

export type CommitHookChange = { op: 'put' | 'delete'; path: string; size?: number; hash?: string };

export interface EngineOptions {
  meta: MetaStore;
  store: ObjectStore;
  chunker: ChunkerParams;
  packTargetBytes?: number;
  now?: () => Date;
  /**
   * Extra metadata ops written in the same atomic batch that moves a branch head (the webhook
   * outbox): whatever they record exists if and only if the commit does.
   */
  onCommitOps?: (input: CommitHookInput) => MetaOp[];
  onBranchOps?: (input: { repo: RepoName; branch: BranchName; event: 'created' | 'deleted'; head: string | null }) => MetaOp[];
  /** Called after a batch with hook ops is durable (e.g. to wake the webhook dispatcher). */
  afterWrite?: () => void;
  /** Called under the repo lock while a repo is deleted, to drop what hangs off it (webhooks). */
  onRepoDelete?: (repo: RepoName) => Promise<void>;
}

export interface EngineContext {
  readonly meta: MetaStore;
  readonly store: ObjectStore;
  readonly chunker: ChunkerParams;
  readonly packTargetBytes: number;
  readonly locks: KeyedLock;
  readonly trees: TreeCache;
  readonly reader: ChunkReader;
  readonly pending: PendingUploads;
  readonly now: () => Date;
  readonly options: EngineOptions;
}

export function createContext(opts: EngineOptions): EngineContext {
  return {
    meta: opts.meta,
    store: opts.store,
    chunker: opts.chunker,
    packTargetBytes: opts.packTargetBytes ?? DEFAULT_PACK_TARGET_BYTES,
    locks: new KeyedLock(),
    trees: new TreeCache(opts.meta),
    reader: new ChunkReader(opts.meta, opts.store),
    pending: new PendingUploads(),
    now: opts.now ?? (() => new Date()),
    options: opts,
  };
}

/** The lock that serializes the short compare-and-swap section of every write to one repo. */
export const repoLockKey = (repo: RepoName) => `repo:${repo}`;
