/**
 * Content-addressed records (manifests, trees, Parquet metadata) written ahead of the commit that
 * will reference them, in synced batches of about BATCH_BYTES, one in flight while the next fills.
 * Each record leaves the JS heap as it is added (MetaStore.openBatch), so a commit of 100k files
 * holds none of them. The batch still filling at the end becomes the commit's own batch, so a
 * small commit is still one synced write. A commit that fails after some batches were written
 * leaves their records unreferenced, like the packs of a failed upload.
 *
 * Synced, rather than left for the commit's synced batch to carry: that fsync covers only
 * LevelDB's current log file, and a memtable switch in between closes the earlier log unsynced
 * (db_impl.cc MakeRoomForWrite), so after a power loss a commit could survive a record it names.
 */
import type { MetaBatch, MetaOp, MetaStore } from '../meta/meta-store.js';

/** ~2k small-file manifests; a sync each (measured ~3 ms here), overlapped with the next batch's parsing. */
const BATCH_BYTES = 512 * 1024;

export class RecordWriter {
  private filling: MetaBatch | undefined;
  private fillingBytes = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly meta: MetaStore) {}

  /** Resolves at once unless a full batch had to wait for the one before it. */
  async add(op: MetaOp): Promise<void> {
    const batch = (this.filling ??= this.meta.openBatch());
    if (op.type === 'put') batch.put(op.key, op.value);
    else batch.del(op.key);
    this.fillingBytes += op.key.length + (op.type === 'put' ? op.value.length : 0);
    if (this.fillingBytes >= BATCH_BYTES) await this.startBatch();
  }

  /** Resolves when the batches already started are on disk (what is still filling is not). */
  settle(): Promise<void> {
    return this.inFlight;
  }

  /**
   * Once the batches already started are on disk: `ops` and the records still unwritten, as one
   * synced batch (all or nothing, however large). The writer is empty afterwards.
   */
  async writeWith(ops: readonly MetaOp[]): Promise<void> {
    await this.inFlight;
    const batch = this.filling ?? this.meta.openBatch();
    this.filling = undefined;
    this.fillingBytes = 0;
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value);
        else batch.del(op.key);
      }
    } catch (err) {
      batch.discard();
      throw err;
    }
    await batch.write({ sync: true });
  }

  /** Drop what was added but not written (the commit failed). */
  discard(): void {
    this.filling?.discard();
    this.filling = undefined;
    this.fillingBytes = 0;
  }

  private async startBatch(): Promise<void> {
    await this.inFlight;
    if (!this.filling) return;
    const write = this.filling.write({ sync: true });
    this.filling = undefined;
    this.fillingBytes = 0;
    // Awaited by the next batch, settle or writeWith; until then a failure must not count as unhandled.
    write.catch(() => undefined);
    this.inFlight = write;
  }
}
