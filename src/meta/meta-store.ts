/**
 * The metadata seam: an ordered key-value store with atomic batches. LevelDB in production; the
 * engine never touches `level` directly.
 */
export type MetaOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

export interface MetaBatch {
  put(key: string, value: string): void;
  del(key: string): void;
  /** Sync is the default, as for MetaStore.batch; an empty batch writes nothing. Not usable afterwards. */
  write(opts?: { sync?: boolean }): Promise<void>;
  /** Drop the batch unwritten (every opened batch is either written or discarded). */
  discard(): void;
}

export interface KeyRange {
  gte: string;
  lt: string;
  /** Resume after this key (exclusive), for cursor paging. */
  gt?: string;
  limit?: number;
  reverse?: boolean;
}

export interface MetaStore {
  /** The value, or undefined when the key is absent. */
  get(key: string): Promise<string | undefined>;
  /** Values in the order of `keys`, undefined for absent ones; one round trip. */
  getMany(keys: readonly string[]): Promise<Array<string | undefined>>;
  /**
   * Apply every op or none. With `sync` (the default) the batch is on disk before this resolves,
   * so a commit acknowledged to a client survives a crash.
   */
  batch(ops: readonly MetaOp[], opts?: { sync?: boolean }): Promise<void>;
  /**
   * A batch filled op by op, each op copied out of the JS heap as it is added (so a writer of many
   * records holds none of them); write() applies every op or none, like batch().
   */
  openBatch(): MetaBatch;
  /** Entries in the range, ascending by key (descending with `reverse`). */
  entries(range: KeyRange): AsyncIterable<[key: string, value: string]>;
  /** Delete every key in [gte, lt). Not atomic with other writes; used for repo deletion only. */
  clear(range: { gte: string; lt: string }): Promise<void>;
  /**
   * Hand back memory the store holds for recent writes, for a caller that has gone idle (LevelDB:
   * write its memtable out as a table file). Writes are neither lost nor reordered; resolves to
   * whether anything was released.
   */
  releaseMemory(): Promise<boolean>;
  /** Resolve when the store is open and readable; throw E_STORE_UNAVAILABLE otherwise. */
  check(): Promise<void>;
  close(): Promise<void>;
}
