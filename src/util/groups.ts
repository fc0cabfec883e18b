/**
 * Items in arrays of `size` (the last one shorter), read lazily: from a sync iterable of items,
 * or an async iterable of batches of them (cut and joined to `size`, one async step per batch).
 */
export async function* inGroups<T>(items: Iterable<T> | AsyncIterable<readonly T[]>, size: number): AsyncGenerator<T[]> {
  let group: T[] = [];
  // A sync iterable is one batch, still read lazily.
  const batches: AsyncIterable<Iterable<T>> | Iterable<Iterable<T>> = Symbol.asyncIterator in items ? items : [items];
  for await (const batch of batches) {
    for (const item of batch) {
      group.push(item);
      if (group.length >= size) {
        yield group;
        group = [];
      }
    }
  }
  if (group.length > 0) yield group;
}
