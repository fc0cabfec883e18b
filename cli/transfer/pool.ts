/**
 * A bounded set of concurrent tasks with first-failure semantics: `run` waits for a free slot
 * (backpressure for the producer), a failed task makes later `run`/`drain` calls throw its error.
 */
export class TaskPool {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Start `task` once fewer than `limit` tasks run (or fewer than `below`, a tighter bound for
   * this task); resolves when it has started.
   */
  async run(task: () => Promise<void>, below = this.limit): Promise<void> {
    this.throwIfFailed();
    const limit = Math.min(below, this.limit);
    while (this.running.size >= limit) await Promise.race(this.running);
    this.throwIfFailed();
    const p: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Wait for every task; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    this.throwIfFailed();
  }

  /** Wait for every task, ignoring failures (cleanup after an error elsewhere). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
