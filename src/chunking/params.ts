/**
 * Chunker parameters and the chunker id that file manifests record. The id names the algorithm
 * version and every parameter, so a manifest can always be re-chunked (or verified) exactly the way
 * it was written, even after the defaults change.
 */
import { fail } from '../errors.js';

export interface ChunkerParams {
  minSize: number;
  avgSize: number;
  maxSize: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_CHUNKER_PARAMS: ChunkerParams = Object.freeze({
  minSize: 256 * KiB,
  avgSize: 1 * MiB,
  maxSize: 4 * MiB,
});

/** Hashing starts 32 bytes before minSize (a full gear window), so minSize must leave room for it. */
export const MIN_CHUNK_SIZE_LIMIT = 64;
/** FileChunker holds one maxSize buffer per file being chunked; this caps that memory. */
export const MAX_CHUNK_SIZE_LIMIT = 256 * MiB;

/** Bumped whenever a change (gear table, masks, windowing) would move any cut point. */
const ALGORITHM = 'fastcdc-v1';
const DECIMAL_RE = /^(0|[1-9][0-9]{0,9})$/;

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** Returns `p` (as a fresh frozen object) or throws E_BAD_REQUEST saying which rule is broken. */
export function validateChunkerParams(p: ChunkerParams): ChunkerParams {
  const { minSize, avgSize, maxSize } = p ?? ({} as ChunkerParams);
  const bad = (why: string) => fail('E_BAD_REQUEST', `invalid chunker parameters: ${why}`, { minSize, avgSize, maxSize });
  for (const [name, v] of Object.entries({ minSize, avgSize, maxSize })) {
    if (!Number.isSafeInteger(v) || v <= 0) throw bad(`${name} must be a positive integer, got ${String(v)}`);
  }
  if (!isPowerOfTwo(avgSize)) throw bad(`avgSize must be a power of two, got ${avgSize}`);
  if (minSize < MIN_CHUNK_SIZE_LIMIT) throw bad(`minSize must be at least ${MIN_CHUNK_SIZE_LIMIT}, got ${minSize}`);
  if (maxSize > MAX_CHUNK_SIZE_LIMIT) throw bad(`maxSize must be at most ${MAX_CHUNK_SIZE_LIMIT}, got ${maxSize}`);
  if (!(minSize < avgSize && avgSize < maxSize)) {
    throw bad(`sizes must satisfy minSize < avgSize < maxSize, got ${minSize}/${avgSize}/${maxSize}`);
  }
  return Object.freeze({ minSize, avgSize, maxSize });
}

/** A stable id recorded in every file manifest, e.g. "fastcdc-v1:262144:1048576:4194304". */
export function chunkerId(p: ChunkerParams): string {
  const { minSize, avgSize, maxSize } = validateChunkerParams(p);
  return `${ALGORITHM}:${minSize}:${avgSize}:${maxSize}`;
}

/** Inverse of chunkerId; throws E_BAD_REQUEST on an unknown algorithm or malformed/invalid sizes. */
export function parseChunkerId(id: string): ChunkerParams {
  const parts = typeof id === 'string' ? id.split(':') : [];
  if (parts.length !== 4 || parts[0] !== ALGORITHM || !parts.slice(1).every((s) => DECIMAL_RE.test(s))) {
    throw fail('E_BAD_REQUEST', `unknown or malformed chunker id ${JSON.stringify(id)}: expected "${ALGORITHM}:<min>:<avg>:<max>"`, { id });
  }
  const [minSize, avgSize, maxSize] = parts.slice(1).map(Number) as [number, number, number];
  return validateChunkerParams({ minSize, avgSize, maxSize });
}
