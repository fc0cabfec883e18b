/** inGroups: the commit's changes in fixed-size groups, from an array or from batches as they are parsed. */
import { describe, expect, it } from 'vitest';
import { inGroups } from '../../src/util/groups.js';

async function all<T>(groups: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const g of groups) out.push(g);
  return out;
}

describe('inGroups', () => {
  it('cuts a sync iterable into groups of `size`, the last one shorter', async () => {
    expect(await all(inGroups([1, 2, 3, 4, 5], 2))).toEqual([[1, 2], [3, 4], [5]]);
    expect(await all(inGroups([], 2))).toEqual([]);
  });

  it('joins and cuts async batches to `size`, whatever their sizes', async () => {
    async function* batches() {
      yield [1, 2, 3];
      yield [];
      yield [4];
      yield [5, 6, 7, 8, 9];
    }
    expect(await all(inGroups(batches(), 4))).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9]]);
  });

  it('reads a sync iterable lazily: no item before its group is asked for', async () => {
    let read = 0;
    function* items() {
      for (let i = 0; i < 10; i++) {
        read++;
        yield i;
      }
    }
    const groups = inGroups(items(), 3);
    expect((await groups.next()).value).toEqual([0, 1, 2]);
    expect(read).toBe(3);
  });
});
