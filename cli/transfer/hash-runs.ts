/**
 * Hashes crossing between the main thread and the file workers go back to back in one string,
 * 64 hex digits each with no separator (read-packing.ts, write-tasks.ts): one string clones far
 * cheaper than a string per hash. No dependencies, so a worker loads it before anything else.
 */
export const HASH_CHARS = 64;

/** The `i`th hash of a run. */
export function hashAt(hashes: string, i: number): string {
  return hashes.slice(i * HASH_CHARS, (i + 1) * HASH_CHARS);
}
