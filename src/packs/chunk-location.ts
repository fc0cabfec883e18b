/** Where a chunk's bytes live: a range of a pack object. Encoded compactly; the index holds millions. */
import { fail } from '../errors.js';

export interface ChunkLocation {
  pack: string;
  offset: number;
  length: number;
}

export function encodeLocation(loc: ChunkLocation): string {
  return `${loc.pack} ${loc.offset} ${loc.length}`;
}

/**
 * Prefix of an index entry whose stored bytes failed a check (ops/chunk-check.ts), followed by the
 * entry it replaced. Reads refuse such a chunk; an upload of it stores a fresh copy and overwrites
 * the entry, which repairs every commit naming it.
 */
export const DAMAGED = 'damaged ';

export function isDamaged(value: string): boolean {
  return value.startsWith(DAMAGED);
}

/**
 * A repo's presence record of a chunk found damaged: the repo still holds the chunk (its reads go
 * on, and serve the fresh copy once one is uploaded), but chunks/missing and commits treat it as
 * missing, so the repo's next put sends the bytes, which proves it has them and repairs the chunk.
 */
export const DAMAGED_PRESENCE = 'damaged';

/** A presence record as the missing-chunk checks read it: absent, or present with its length ('' before lengths were recorded). */
export function presentFor(value: string | undefined): string | undefined {
  return value === DAMAGED_PRESENCE ? undefined : value;
}

export function decodeLocation(value: string): ChunkLocation {
  if (isDamaged(value)) throw fail('E_INTERNAL', 'a damaged chunk index entry was taken for a location');
  const [pack, offset, length] = value.split(' ');
  if (pack === undefined || offset === undefined || length === undefined) {
    throw fail('E_CORRUPT_OBJECT', `chunk index entry is malformed: ${JSON.stringify(value)}`);
  }
  return { pack, offset: Number(offset), length: Number(length) };
}

/** Object-store key of a pack: fanned out by the first two hex digits of its id. */
export function packKey(packId: string): string {
  return `packs/${packId.slice(0, 2)}/${packId}`;
}
