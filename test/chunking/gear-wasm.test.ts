import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without type declarations
import { compileGearWat, renderModule } from '../../scripts/gear-wasm/build.mjs';
import { readFile } from 'node:fs/promises';
import { CdcScanner, DEFAULT_CHUNKER_PARAMS } from '../../src/chunking/index.js';
import { GEAR_ROLL_WASM } from '../../src/chunking/gear-roll-wasm.js';
import { GEAR } from '../../src/chunking/gear.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

type Roll = (i: number, end: number, mask: number, h0: number) => number;

/** A fresh instance of the module, its gear table in place and `bytes` seeded bytes to roll (at index 0). */
function gearModule(seed: number, bytes: number): { roll: Roll; roll2: Roll; h: { value: number }; data: Uint8Array } {
  const wasm = (globalThis as unknown as { WebAssembly: { Instance: new (m: object) => { exports: Record<string, unknown> }; Module: new (b: Uint8Array) => object } }).WebAssembly;
  const { exports } = new wasm.Instance(new wasm.Module(GEAR_ROLL_WASM));
  const memory = exports['memory'] as { buffer: ArrayBuffer; grow(pages: number): number };
  const pages = Math.ceil((1024 + bytes) / 65536) - memory.buffer.byteLength / 65536;
  if (pages > 0) memory.grow(pages);
  new Int32Array(memory.buffer, 0, 256).set(GEAR);
  const data = new Uint8Array(memory.buffer, 1024, bytes);
  data.set(seededBytes(seed, bytes));
  return { roll: exports['roll'] as Roll, roll2: exports['roll2'] as Roll, h: exports['h'] as { value: number }, data };
}

describe('the WebAssembly gear loop', () => {
  it('is exactly what gear-roll.wat compiles to (regenerate with node scripts/gear-wasm/build.mjs)', async () => {
    const bytes = (await compileGearWat()) as Buffer;
    expect(Buffer.from(GEAR_ROLL_WASM)).toEqual(bytes);
    expect(await readFile(new URL('../../src/chunking/gear-roll-wasm.ts', import.meta.url), 'utf8')).toBe(renderModule(bytes));
  });

  it('cuts a stream the same whether it arrives whole, in odd pieces, or in pieces around its 16 KiB roll steps', () => {
    const data = seededBytes(11, 12 * 1024 * 1024 + 12345);
    const whole = new CdcScanner(DEFAULT_CHUNKER_PARAMS).scan(data);
    const pieces = (size: number) => {
      const s = new CdcScanner(DEFAULT_CHUNKER_PARAMS);
      const cuts: number[] = [];
      for (let at = 0; at < data.length; at += size) cuts.push(...s.scan(data.subarray(at, at + size)).map((c) => at + c));
      return cuts;
    };
    expect(whole.length).toBeGreaterThan(6);
    expect(pieces(1_000_003)).toEqual(whole);
    expect(pieces(9 * 1024 * 1024)).toEqual(whole);
    for (const size of [4095, 4097, 16_383, 16_385]) expect(pieces(size)).toEqual(whole);
  });

  it('answers the same from two lanes (roll2) as from one (roll): the cut, or the hash left when there is none', () => {
    const { roll, roll2, h, data } = gearModule(12, 4 * 65536);
    const rolled = (i: number, end: number, h0: number) => {
      let x = h0;
      for (let k = i; k < end; k++) x = ((x << 1) + GEAR[data[k]!]!) | 0;
      return x;
    };
    let cuts = 0;
    let secondLane = 0;
    // Masks of 2 to 14 high bits cut every few bytes to every few KiB, so cuts land in either
    // lane, on either byte of a two-byte turn, right at the lanes' seam, or nowhere.
    for (let t = 0; t < 3000; t++) {
      const i = 32 + ((t * 7919) % 150_000);
      const end = i + 64 + ((t * 104_729) % (t % 3 === 0 ? 200 : 40_000));
      const mask = (-1 << (32 - (2 + (t % 13)))) | 0;
      const h0 = rolled(i - 32, i, 0);
      const one = roll(i, end, mask, h0);
      const hOne = h.value;
      const two = roll2(i, end, mask, h0);
      expect([two, two < 0 ? h.value : 0]).toEqual([one, one < 0 ? hOne : 0]);
      if (one < 0) expect(h.value).toBe(rolled(end - 32, end, 0));
      cuts += one >= 0 ? 1 : 0;
      secondLane += one > i + ((end - i) >> 1) ? 1 : 0;
    }
    expect(cuts).toBeGreaterThan(1000);
    expect(secondLane).toBeGreaterThan(100);
    expect(3000 - cuts).toBeGreaterThan(100);

    // The seams, placed on purpose: for consecutive cut points p0 < p1 of one mask, a range from
    // just past p0 whose first cut p1 falls on the first half's last byte (even and odd lengths),
    // on the second half's first byte, on the range's last byte, or on its second-last.
    const mask = (-1 << (32 - 7)) | 0;
    const hits: number[] = [];
    let x = rolled(0, 32, 0);
    for (let k = 32; k < data.length && hits.length < 400; k++) {
      x = ((x << 1) + GEAR[data[k]!]!) | 0;
      if ((x & mask) === 0) hits.push(k);
    }
    let placed = 0;
    for (let n = 1; n < hits.length; n++) {
      const [p0, p1] = [hits[n - 1]!, hits[n]!];
      const i = p0 + 1;
      const k = p1 + 1 - i; // bytes from i through p1
      const ranges: Array<[number, number]> = [
        [i, i + 2 * k], // p1 = mid - 1, even length
        [i, i + 2 * k + 1], // p1 = mid - 1, odd length
        [i, i + 2 * (k - 1)], // p1 = mid
        [i, i + 2 * (k - 1) + 1], // p1 = mid, odd length
        [i, p1 + 1], // p1 = end - 1
        [i, p1 + 2], // p1 = end - 2
      ];
      for (const [from, to] of ranges) {
        if (to - from < 64 || i < 32) continue;
        const h0 = rolled(from - 32, from, 0);
        expect(roll(from, to, mask, h0)).toBe(p1 + 1);
        expect(roll2(from, to, mask, h0)).toBe(p1 + 1);
        placed++;
      }
    }
    expect(placed).toBeGreaterThan(300);
  });

  it('hands a range too short for two lanes to the one-lane roll', () => {
    const { roll, roll2, h } = gearModule(13, 4096);
    for (let len = 0; len < 64; len++) {
      for (const mask of [(-1 << 28) | 0, -1]) {
        const one = roll(0, len, mask, 12345);
        const hOne = h.value;
        expect([roll2(0, len, mask, 12345), h.value]).toEqual([one, hOne]);
      }
    }
  });
});
