/**
 * The changes of a put's commit, released while the put still reads and uploads. The commit
 * request goes out first and its NDJSON lines follow in groups, so the server stages (parses,
 * checks and records) the first files while the last are still being read: for 100k small files
 * that staging was ~2.4 s after the last upload.
 *
 * A file's change is released only once every upload batch holding its chunks has been answered
 * (ChunkUploader.uploaded), so no line ever names a chunk the server has not accepted. If the put
 * fails, `abort` makes `groups` throw: the request is cut off unfinished and nothing is committed.
 */
/** Changes made at once at most. */
const GROUP_LIMIT = 1024;

export class ChangeFeed {
  /** Files read and not yet released, in the order they were read, with their last batch. */
  private files: number[] = [];
  private lastBatch = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  private failure: { error: unknown } | undefined;
  private readonly aborted: Promise<never>;
  private rejectAborted!: (error: unknown) => void;

  constructor(private readonly uploaded: (batch: number) => Promise<void>) {
    this.aborted = new Promise<never>((_, reject) => (this.rejectAborted = reject));
    this.aborted.catch(() => undefined); // observed by groups() only if it is running
  }

  /** File `i` is ready once upload batch `batch` (and every earlier one) is answered; 0: at once. */
  push(i: number, batch: number): void {
    this.files.push(i);
    if (batch > this.lastBatch) this.lastBatch = batch;
    this.notify();
  }

  /** Every file has been pushed. */
  close(): void {
    this.closed = true;
    this.notify();
  }

  /** The put failed: `groups` throws `error` instead of going on (the first error wins). */
  abort(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.rejectAborted(error);
    this.notify();
  }

  throwIfAborted(): void {
    if (this.failure) throw this.failure.error;
  }

  /**
   * The released files, made into changes by `make` a group at a time: each group is everything
   * read by the time the previous one was sent, released once its last batch is answered (while it
   * waits, the next group fills).
   */
  async *groups<C>(make: (files: readonly number[]) => Iterable<C>): AsyncGenerator<C> {
    for (;;) {
      while (this.files.length === 0) {
        this.throwIfAborted();
        if (this.closed) return;
        await Promise.race([new Promise<void>((resolve) => (this.wake = resolve)), this.aborted]);
      }
      const files = this.files;
      const batch = this.lastBatch;
      this.files = [];
      await Promise.race([this.uploaded(batch), this.aborted]);
      this.throwIfAborted();
      // In slices: the files taken from the put index come all at once.
      for (let at = 0; at < files.length; at += GROUP_LIMIT) yield* make(files.slice(at, at + GROUP_LIMIT));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
