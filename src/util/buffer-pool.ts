/**
 * Buffers of one size, reused. A buffer is lent out for a number of views of it and comes back
 * when the last of them is released (`release` takes any view: buffers are told apart by their
 * memory). Fresh large buffers are costly where many pass through: the kernel faults in and zeroes
 * their pages, and V8 runs a full garbage collection every few tens of MB of them to account for
 * their memory (a 1 GB file read by the server: ~1.5 s of CPU).
 *
 * A view never released keeps its buffer out of the pool for good, to be garbage-collected (the
 * loans are weak): nothing is reused while a view of it may still be read. Releasing a view twice,
 * or one that was never counted, is the one misuse that can hand out a buffer still in use.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private readonly loans = new WeakMap<ArrayBufferLike, { buffer: Buffer; unreleased: number }>();

  /**
   * @param size bytes per buffer
   * @param keep free buffers kept for reuse; beyond that, returned buffers are left to the GC
   */
  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  /** A buffer of `size` bytes, reused if one is free; lend or give it back when done. */
  take(): Buffer {
    // allocUnsafeSlow: each buffer its own memory. allocUnsafe would carve buffers under 4 KiB out
    // of one shared slab, and loans, told apart by memory, would then mix up different buffers.
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** `buffer` (from take) is out until `views` views of it are released. */
  lend(buffer: Buffer, views: number): void {
    if (views === 0) this.giveBack(buffer);
    else this.loans.set(buffer.buffer, { buffer, unreleased: views });
  }

  /** One lent view is done with; views of buffers not lent from this pool are ignored. */
  release(view: Uint8Array): void {
    const loan = this.loans.get(view.buffer);
    if (!loan || --loan.unreleased > 0) return;
    this.loans.delete(view.buffer);
    this.giveBack(loan.buffer);
  }

  /** Let go of the free buffers (to the garbage collector); returns their bytes. Lent ones come back as usual. */
  dropFree(): number {
    const bytes = this.free.length * this.size;
    this.free.length = 0;
    return bytes;
  }

  /** A buffer from take that was not lent (or whose loan is over) is free again. */
  giveBack(buffer: Buffer): void {
    if (buffer.length === this.size && this.free.length < this.keep) this.free.push(buffer);
  }
}
