import { describe, expect, it } from 'vitest';
import { blake3Hex } from '../../src/hash/blake3.js';
import { GEAR, GEAR_SEED_PREFIX, chunkerMasks, deriveGearTable, gearTableBytes, highBitsMask } from '../../src/chunking/index.js';

describe('gear table', () => {
  it('is frozen: BLAKE3 of its 1024 little-endian bytes never changes', () => {
    expect(blake3Hex(gearTableBytes())).toBe('a55338a24efb889d5e462312736a703a3a7d53a80b79786916ce454d2a3d5061');
  });

  it('is derived as documented: int32 LE of the first 4 bytes of BLAKE3("datactl/fastcdc-v1/gear/<i>")', () => {
    expect(GEAR_SEED_PREFIX).toBe('datactl/fastcdc-v1/gear/');
    // printf 'datactl/fastcdc-v1/gear/0' | b3sum  ->  c3777552...  ->  0x527577c3
    expect(blake3Hex('datactl/fastcdc-v1/gear/0').slice(0, 8)).toBe('c3777552');
    expect(GEAR[0]).toBe(0x527577c3);
    expect([GEAR[0], GEAR[1], GEAR[255]]).toEqual([1383430083, 1989263487, 1693793808]);
    expect(deriveGearTable()).toEqual(GEAR);
  });

  it('has 256 distinct entries using both signs', () => {
    expect(GEAR.length).toBe(256);
    expect(new Set(GEAR).size).toBe(256);
    expect(GEAR.some((v) => v < 0) && GEAR.some((v) => v > 0)).toBe(true);
  });
});

describe('masks', () => {
  it('select the high bits of the int32 hash', () => {
    expect(highBitsMask(0)).toBe(0);
    expect(highBitsMask(1) >>> 0).toBe(0x80000000);
    expect(highBitsMask(18) >>> 0).toBe(0xffffc000);
    expect(highBitsMask(32)).toBe(-1);
  });

  it('are log2(avg)+2 bits before avg and log2(avg)-2 bits after it (normalization level 2)', () => {
    const { strict, loose } = chunkerMasks(1 << 20);
    expect(strict >>> 0).toBe(0xfffffc00); // 22 bits
    expect(loose >>> 0).toBe(0xffffc000); // 18 bits
    expect(strict).toBe(-1024); // a negative int32, so `h & mask` never leaves int32
    const small = chunkerMasks(8192);
    expect(small.strict >>> 0).toBe(0xfffe0000); // 15 bits
    expect(small.loose >>> 0).toBe(0xffe00000); // 11 bits
  });
});
