/**
 * The gear table: 256 pseudo-random int32 values, one per byte value, that the rolling hash adds.
 *
 * Derivation (frozen: changing it moves every cut point and needs a new chunker id):
 *   GEAR[i] = the first 4 bytes of BLAKE3(ASCII `datactl/fastcdc-v1/gear/<i>`), read as a
 *   little-endian two's-complement int32, for i = 0..255 written in decimal without padding.
 * Anyone can recompute it from that sentence and `b3sum`; no magic constants to copy by hand.
 */
import { blake3Hex } from '../hash/blake3.js';

export const GEAR_SEED_PREFIX = 'datactl/fastcdc-v1/gear/';

export function deriveGearTable(): Int32Array {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    table[i] = Buffer.from(blake3Hex(`${GEAR_SEED_PREFIX}${i}`).slice(0, 8), 'hex').readInt32LE(0);
  }
  return table;
}

/** Int32Array (not uint32) on purpose: V8 keeps int32 values unboxed in the hot loop. */
export const GEAR: Int32Array = deriveGearTable();

/** The table as 1024 little-endian bytes, independent of host endianness (for golden tests and docs). */
export function gearTableBytes(table: Int32Array = GEAR): Buffer {
  const out = Buffer.alloc(table.length * 4);
  table.forEach((v, i) => out.writeInt32LE(v, i * 4));
  return out;
}
