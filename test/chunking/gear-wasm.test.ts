import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without type declarations
import { compileGearWat, renderModule } from '../../scripts/gear-wasm/build.mjs';
import { readFile } from 'node:fs/promises';
import { CdcScanner, DEFAULT_CHUNKER_PARAMS } from '../../src/chunking/index.js';
import { GEAR_ROLL_WASM } from '../../src/chunking/gear-roll-wasm.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

describe('the WebAssembly gear loop', () => {
  it('is exactly what gear-roll.wat compiles to (regenerate with node scripts/gear-wasm/build.mjs)', async () => {
    const bytes = (await compileGearWat()) as Buffer;
    expect(Buffer.from(GEAR_ROLL_WASM)).toEqual(bytes);
    expect(await readFile(new URL('../../src/chunking/gear-roll-wasm.ts', import.meta.url), 'utf8')).toBe(renderModule(bytes));
  });

  it('cuts a stream the same whether it arrives whole, in odd pieces, or in pieces larger than its window', () => {
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
    expect(pieces(4097)).toEqual(whole);
  });
});
