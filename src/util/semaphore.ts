/** A counting semaphore: at most `permits` holders at once, waiters served in arrival order. */
export class Semaphore {
  private readonly waiters: Array<() => void> = [];
  private available: number;

  constructor(permits: number) {
    this.available = permits;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.available++;
  }
}
