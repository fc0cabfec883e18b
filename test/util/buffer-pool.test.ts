import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/util/buffer-pool.js';

describe('BufferPool', () => {
  it('hands out buffers of their own memory, whatever the size, so loans never mix', () => {
    // Under 4 KiB, Buffer.allocUnsafe carves buffers out of one shared slab.
    const pool = new BufferPool(1024, 4);
    const [a, b] = [pool.take(), pool.take()];
    expect(a.buffer).not.toBe(b.buffer);
    pool.lend(a, 1);
    pool.lend(b, 1);
    pool.release(b.subarray(0, 10));
    // b is free again, a still lent: the next take is b, never a.
    expect(pool.take()).toBe(b);
    expect(pool.take()).not.toBe(a);
  });

  it('takes a buffer back once every lent view is released, and keeps at most `keep` free', () => {
    const pool = new BufferPool(8192, 1);
    const a = pool.take();
    pool.lend(a, 2);
    pool.release(a.subarray(0, 100));
    expect(pool.take()).not.toBe(a); // one view still out
    pool.release(a.subarray(100, 200));
    const b = pool.take(); // a, now free
    expect(b).toBe(a);
    pool.giveBack(b);
    pool.giveBack(Buffer.allocUnsafeSlow(8192)); // beyond keep: left to the GC
    expect(pool.take()).toBe(a);
  });

  it('drops its free buffers on request, and takes lent ones back as before', () => {
    const pool = new BufferPool(8192, 4);
    const [a, b, c] = [pool.take(), pool.take(), pool.take()];
    pool.giveBack(a);
    pool.giveBack(b);
    pool.lend(c, 1);
    expect(pool.dropFree()).toBe(2 * 8192);
    expect(pool.dropFree()).toBe(0);
    const fresh = pool.take();
    expect(fresh).not.toBe(a);
    expect(fresh).not.toBe(b);
    pool.release(c);
    expect(pool.take()).toBe(c);
  });
});
