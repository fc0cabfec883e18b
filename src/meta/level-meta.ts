/** MetaStore on LevelDB (`level` / classic-level), utf8 keys and values. */
import { Level } from 'level';
import { DatactlError, fail, isNoSpace } from '../errors.js';
import type { KeyRange, MetaBatch, MetaOp, MetaStore } from './meta-store.js';

/**
 * LevelDB's memtable size (its default is 4 MiB). Up to two are in memory, the one filling and the
 * one being written out; the malloc memory a written-out one held is reused by the next rather
 * than given back, so this sets the peak. A put of 100k small files writes ~45 MB of records.
 * 32 MiB was chosen on 2026-12-03, when the compaction that 4 MiB memtables bring (~145 MB of
 * extra writes, on LevelDB's own thread) cost that put's server 11.1 s of CPU against 9.6 s; its
 * CPU has since fallen to ~3.5 s, and the difference with it. Server peak RSS of that put, three
 * alternating runs each on the build before (65e9cb5): 32 MiB 277-303 MB, 16 MiB 293-304, 8 MiB
 * 250-265, 4 MiB 255-274; server CPU 3.4-3.7 s for all four. 8 rather than LevelDB's 4: the same
 * peak with half the level-0 tables to merge.
 */
const WRITE_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * Snappy on LevelDB's tables, off. The records are mostly hex ids, which it barely shrinks (a
 * 100k-file commit's store: 36 MB compressed, 42 MB not), while every block read is decompressed
 * into a copy on the heap and every compaction compresses again, on a 2-core machine beside the
 * request thread. Off, 100k-file get, five alternating pairs on tmpfs: server user CPU 1.58 ->
 * 1.39 s, wall 2.50 -> 2.35 s; 100k-file put: 3.28 -> 3.09 s, wall 3.66 -> 3.54 s (medians); the
 * server's peaks the same. Tables written compressed before stay readable: LevelDB marks each
 * block with how it was written.
 */
const COMPRESS_TABLES = false;

/**
 * releaseMemory writes the memtable out once it holds about this much: a memtable stays resident
 * until more writes fill it, which may be never. Below it a flush would only add a small level-0
 * table (and a new log file) for little memory.
 */
const RELEASE_FROM_BYTES = 2 * 1024 * 1024;
/**
 * What LevelDB's memtable spends on an entry beyond its key and value (tag, lengths, skiplist
 * node): measured, its approximate-memory-usage grew 2097 bytes per entry of a 10-byte key and a
 * 2048-byte value.
 */
const ENTRY_OVERHEAD_BYTES = 40;

/** What a put (with `value`) or a delete adds to the memtable, about. */
const entryBytes = (key: string, value = ''): number => key.length + value.length + ENTRY_OVERHEAD_BYTES;
/** A key range past every key (all begin with an ASCII prefix): compacting it touches no table. */
const PAST_ALL_KEYS = { start: '\uffff', end: '\uffff\uffff' };

/** What `level` is in Node (classic-level) has these; its browser-neutral types leave them out. */
interface ClassicLevelExtras {
  compactRange(start: string, end: string): Promise<void>;
}

/**
 * After a failed write the store is reopened before anything else touches it. LevelDB leaves a
 * record that failed part way (ENOSPC) in its log and goes on appending after it unless the
 * failure was in the sync; on recovery the reader drops the rest of the torn record's 32 KiB
 * block, and with it commits acknowledged after the failure (seen: disk full, space freed, a
 * synced commit acknowledged, kill -9, commit gone). Reopened before the next operation, the log
 * is replayed while nothing acknowledged follows the torn record (a write already in flight when
 * the failure came could, if space came back within those milliseconds), and writes go to a fresh
 * log. Until a reopen succeeds (it needs space to write the recovered records out) every
 * operation fails: E_STORAGE_FULL while the disk has no space, else E_STORE_UNAVAILABLE.
 */
export class LevelMetaStore implements MetaStore {
  /** The write failure that requires a reopen, until one succeeds. */
  private failure: Error | undefined;
  /**
   * About what the memtable holds: what was written since it was last swapped out. LevelDB swaps
   * it for a fresh one at the start of a write that finds it over WRITE_BUFFER_BYTES (the write
   * that took it over went in whole), so that is when this starts again from 0. Characters, not
   * bytes: keys and nearly all values are ASCII. LevelDB has no property for the memtable alone
   * (`approximate-memory-usage` adds the block cache, full after reads).
   */
  private unflushedBytes = 0;
  private reopening: Promise<void> | undefined;

  private constructor(
    private db: Level<string, string>,
    private readonly dir: string,
  ) {}

  static async open(dir: string): Promise<LevelMetaStore> {
    return new LevelMetaStore(await openLevel(dir), dir);
  }

  async get(key: string): Promise<string | undefined> {
    if (this.failure) await this.recover();
    return (await this.db.get(key)) ?? undefined;
  }

  async getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    if (keys.length === 0) return [];
    if (this.failure) await this.recover();
    const values = await this.db.getMany(keys as string[]);
    return values.map((v) => v ?? undefined);
  }

  async batch(ops: readonly MetaOp[], opts: { sync?: boolean } = {}): Promise<void> {
    if (ops.length === 0) return;
    if (this.failure) await this.recover();
    // The chained form: abstract-level's array form costs ~10 us of JS per op (measured 3.3 s for
    // 300k ops vs 0.64 s chained), which dominated commits of many small files.
    const batch = this.db.batch();
    let bytes = 0;
    for (const op of ops) {
      if (op.type === 'put') {
        batch.put(op.key, op.value);
        bytes += entryBytes(op.key, op.value);
      } else {
        batch.del(op.key);
        bytes += entryBytes(op.key);
      }
    }
    await this.written(batch.write({ sync: opts.sync ?? true }));
    this.addUnflushed(bytes);
  }

  openBatch(): MetaBatch {
    // After a failed write the reopen comes first, at write time, and would close a native batch of
    // the database open now: the operations wait in a list until then.
    if (this.failure) return this.batchAfterReopen();
    const batch = this.db.batch();
    let bytes = 0;
    // A batch opened before a reopen belongs to the closed database, which closed it too.
    const closed = (err: unknown) => (isClosedError(err) ? fail('E_STORE_UNAVAILABLE', `metadata store at ${this.dir} was reopened; try again`) : err);
    return {
      put: (key, value) => {
        try {
          batch.put(key, value);
        } catch (err) {
          throw closed(err);
        }
        bytes += entryBytes(key, value);
      },
      del: (key) => {
        try {
          batch.del(key);
        } catch (err) {
          throw closed(err);
        }
        bytes += entryBytes(key);
      },
      // A batch opened before a reopen belongs to the closed database: its write fails, as it should.
      write: async (opts = {}) => {
        if (this.failure) await this.recover();
        await this.written(batch.write({ sync: opts.sync ?? true }));
        this.addUnflushed(bytes);
      },
      // An open batch stays attached to the db until closed.
      discard: () => void batch.close().catch(() => undefined),
    };
  }

  private batchAfterReopen(): MetaBatch {
    let ops: MetaOp[] = [];
    return {
      put: (key, value) => void ops.push({ type: 'put', key, value }),
      del: (key) => void ops.push({ type: 'del', key }),
      write: (opts = {}) => this.batch(ops, opts),
      discard: () => void (ops = []),
    };
  }

  async *entries(range: KeyRange): AsyncIterable<[string, string]> {
    if (this.failure) await this.recover();
    const { gte, lt, gt, limit, reverse } = range;
    const bounds = gt !== undefined && !reverse ? { gt, lt } : gt !== undefined ? { gte, lt: gt } : { gte, lt };
    for await (const entry of this.db.iterator({ ...bounds, limit: limit ?? -1, reverse: reverse ?? false })) {
      yield entry as [string, string];
    }
  }

  async clear(range: { gte: string; lt: string }): Promise<void> {
    if (this.failure) await this.recover();
    await this.written(this.db.clear(range));
    // A tombstone per key, not counted one by one: enough to be worth writing out at rest.
    this.unflushedBytes = Math.max(this.unflushedBytes, RELEASE_FROM_BYTES);
  }

  async releaseMemory(): Promise<boolean> {
    const db = this.db as unknown as ClassicLevelExtras;
    if (this.failure || this.db.status !== 'open' || this.unflushedBytes < RELEASE_FROM_BYTES) return false;
    // LevelDB's CompactRange first writes out the memtable, then compacts whatever tables hold keys
    // in the range: none do here, so only the memtable is written.
    const unflushed = this.unflushedBytes;
    this.unflushedBytes = 0; // writes during the compaction go to the fresh memtable
    try {
      await db.compactRange(PAST_ALL_KEYS.start, PAST_ALL_KEYS.end);
    } catch (err) {
      this.unflushedBytes += unflushed;
      throw err;
    }
    return true;
  }

  private addUnflushed(bytes: number): void {
    if (this.unflushedBytes > WRITE_BUFFER_BYTES) this.unflushedBytes = 0;
    this.unflushedBytes += bytes;
  }

  async check(): Promise<void> {
    if (this.failure) await this.recover();
    if (this.db.status !== 'open') throw fail('E_STORE_UNAVAILABLE', `metadata store is ${this.db.status}`);
    await this.db.get('s:probe');
  }

  async close(): Promise<void> {
    await this.reopening?.catch(() => undefined);
    await this.db.close();
  }

  /**
   * A write's outcome; a failure marks the store for a reopen before its next operation. A write
   * that failed because a reopen closed its batch or database is not a new failure: marking it
   * would reopen again, closing the batches of the writes in flight, and so on.
   */
  private async written(write: Promise<void>): Promise<void> {
    try {
      await write;
    } catch (err) {
      if (isClosedError(err)) throw fail('E_STORE_UNAVAILABLE', `metadata store at ${this.dir} was reopened during a write; try again`);
      this.failure ??= err as Error;
      throw fail(isNoSpace(err) ? 'E_STORAGE_FULL' : 'E_STORE_UNAVAILABLE', `metadata store at ${this.dir} failed a write: ${causeOf(err)}`);
    }
  }

  /** Reopen after a failed write (one attempt at a time); throws E_STORAGE_FULL or E_STORE_UNAVAILABLE while it cannot. */
  private async recover(): Promise<void> {
    this.reopening ??= (async () => {
      await this.db.close().catch(() => undefined);
      this.db = await openLevel(this.dir);
      this.failure = undefined;
      this.unflushedBytes = 0; // recovery writes the replayed log out as a table
    })().finally(() => {
      this.reopening = undefined;
    });
    try {
      await this.reopening;
    } catch (err) {
      // A reopen writes the replayed log out as a table: with the disk still full, that is the cause.
      const code = isNoSpace(err) ? 'E_STORAGE_FULL' : 'E_STORE_UNAVAILABLE';
      throw fail(code, `metadata store at ${this.dir} failed a write (${causeOf(this.failure)}) and cannot reopen yet: ${causeOf(err)}`);
    }
  }
}

async function openLevel(dir: string): Promise<Level<string, string>> {
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8', writeBufferSize: WRITE_BUFFER_BYTES, compression: COMPRESS_TABLES });
  try {
    await db.open();
  } catch (err) {
    const cause = causeOf(err);
    const inUse = /LOCK: (Resource temporarily unavailable|already held by process)/.test(cause) ? ' (in use: is another datactl serve running on this data dir?)' : '';
    throw fail('E_STORE_UNAVAILABLE', `cannot open metadata store at ${dir}${inUse}: ${cause}`);
  }
  return db;
}

/** abstract-level's errors for a batch or database that was closed (by a reopen), not a failed write. */
function isClosedError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'LEVEL_BATCH_NOT_OPEN' || code === 'LEVEL_DATABASE_NOT_OPEN';
}

function causeOf(err: unknown): string {
  if (err instanceof DatactlError) return err.message;
  const e = err as { cause?: Error; message?: string } | undefined;
  return e?.cause?.message ?? e?.message ?? String(err);
}
