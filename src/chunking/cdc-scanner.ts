/**
 * FastCDC boundary finder (Xia et al., USENIX ATC 2016 / IEEE TPDS 2020): a gear rolling hash with
 * cut-point skipping and normalized chunking (level 2). docs/chunker.md is the full spec.
 *
 * For a chunk that has reached length L after byte b (L counts b):
 *   h = ((h << 1) + GEAR[b]) | 0          only for L > minSize - 32 (earlier bytes are skipped)
 *   L <  minSize:           never cut
 *   minSize <= L < avgSize: cut if (h & maskStrict) === 0   (log2(avg) + 2 high bits)
 *   avgSize <= L < maxSize: cut if (h & maskLoose) === 0    (log2(avg) - 2 high bits)
 *   L == maxSize:           cut
 */
import { GEAR } from './gear.js';
import { GEAR_ROLL_WASM } from './gear-roll-wasm.js';
import { validateChunkerParams, type ChunkerParams } from './params.js';

/** A left-shift gear hash forgets a byte after 32 shifts: h depends on exactly the last 32 bytes. */
export const GEAR_WINDOW = 32;

/**
 * An int32 with the top `bits` bits set. High bits because each shift pushes older bytes upward:
 * bit k of h depends on the last k+1 bytes, so the top bits see the widest window.
 */
export function highBitsMask(bits: number): number {
  return bits === 0 ? 0 : (-1 << (32 - bits)) | 0;
}

export function chunkerMasks(avgSize: number): { strict: number; loose: number } {
  const bits = Math.round(Math.log2(avgSize));
  return { strict: highBitsMask(bits + 2), loose: highBitsMask(bits - 2) };
}

/** Where the rolled bytes start in the WebAssembly memory (the gear table fills the first 1 KiB). */
const DATA_AT = 1024;
/**
 * Bytes copied into that memory and rolled per call. Only the bytes a roll may test are copied,
 * in steps, so neither the bytes skipped before minSize (~22% of a file at the default sizes)
 * nor those past a cut are; and a small step stays in cache between the copy and the roll. A
 * 256 MB scan took 134 ms copying 4 MiB windows whole, 116 ms in 64 KiB steps, 111 ms in 16 KiB.
 */
const ROLL_STEP = 16 * 1024;
/**
 * Steps at least this long are rolled in two lanes (roll2 in gear-roll.wat): two independent
 * shift/add chains, measured ~20% more bytes per second than one (2.0 -> 2.4 GB/s). Shorter ones
 * are not worth the second lane's 32-byte warm-up (roll2 itself hands anything under 64 to roll).
 */
const TWO_LANES_FROM = 4096;

interface Roller {
  roll: (i: number, end: number, mask: number, h0: number) => number;
  roll2: (i: number, end: number, mask: number, h0: number) => number;
  h: { value: number };
  /** Where each step's bytes are copied for the roll. */
  step: Uint8Array;
}

/** The slice of the WebAssembly JS API used here (the project's lib settings do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/**
 * The hot loop lives in WebAssembly (gear-roll.wat): measured ~4x the throughput of the same loop
 * in JavaScript here. One instance per thread is enough: scan() is synchronous, so scanners never
 * interleave their use of its memory.
 */
let roller: Roller | undefined;
function getRoller(): Roller {
  if (roller) return roller;
  const instance = new wasm.Instance(new wasm.Module(GEAR_ROLL_WASM));
  const memory = instance.exports['memory'] as { buffer: ArrayBuffer };
  new Int32Array(memory.buffer, 0, 256).set(GEAR);
  roller = {
    roll: instance.exports['roll'] as Roller['roll'],
    roll2: instance.exports['roll2'] as Roller['roll2'],
    h: instance.exports['h'] as { value: number },
    step: new Uint8Array(memory.buffer, DATA_AT, ROLL_STEP), // inside the module's one 64 KiB page
  };
  return roller;
}

/** Streaming boundary finder: keeps rolling state across scan() calls. */
export class CdcScanner {
  private readonly minSize: number;
  private readonly avgSize: number;
  private readonly maxSize: number;
  private readonly maskStrict: number;
  private readonly maskLoose: number;
  /** Bytes of the current chunk seen so far (all of them, hashed or skipped). */
  private len = 0;
  private h = 0;

  constructor(params: ChunkerParams) {
    const p = validateChunkerParams(params);
    this.minSize = p.minSize;
    this.avgSize = p.avgSize;
    this.maxSize = p.maxSize;
    const masks = chunkerMasks(p.avgSize);
    this.maskStrict = masks.strict;
    this.maskLoose = masks.loose;
  }

  /** Feed the next bytes of the stream; returns cut positions (exclusive end offsets, relative to `data`, ascending) of every chunk that ends inside `data`. */
  scan(data: Uint8Array): number[] {
    const cuts: number[] = [];
    const n = data.length;
    let at = 0;
    while (at < n) {
      at = this.nextCut(data, at, n);
      if (at < 0) break;
      cuts.push(at);
    }
    return cuts;
  }

  /** Forget all state (next scan starts a new stream). */
  reset(): void {
    this.len = 0;
    this.h = 0;
  }

  /**
   * Walks data[start, n) through the phases of the current chunk. Returns the cut (exclusive end,
   * relative to data) and starts a new chunk, or returns -1 with the state saved when data runs out.
   * Phase ends are turned into indexes of `data` once (`len = base + i`).
   */
  private nextCut(data: Uint8Array, start: number, n: number): number {
    const base = this.len - start;
    let i = start;

    // Cut-point skipping: bytes that cannot reach the window of any eligible cut are not hashed.
    const hashFrom = this.minSize - GEAR_WINDOW - base;
    if (i < hashFrom) i = hashFrom < n ? hashFrom : n;

    // Warm-up: fill the 32-byte window without testing, so the first test (at minSize) is judged
    // on a full window and every cut depends only on the 32 bytes before it, never on chunk history.
    const warmEnd = Math.min(this.minSize - 1 - base, n);
    if (i < warmEnd) {
      const G = GEAR;
      let h = this.h;
      for (; i < warmEnd; i++) h = ((h << 1) + G[data[i]]) | 0;
      this.h = h;
    }

    const strictEnd = Math.min(this.avgSize - 1 - base, n);
    if (i < strictEnd) {
      const cut = this.roll(data, i, strictEnd, this.maskStrict);
      if (cut >= 0) return this.cutAt(cut);
      i = strictEnd;
    }

    const looseEnd = Math.min(this.maxSize - 1 - base, n);
    if (i < looseEnd) {
      const cut = this.roll(data, i, looseEnd, this.maskLoose);
      if (cut >= 0) return this.cutAt(cut);
      i = looseEnd;
    }

    // The byte that brings the chunk to maxSize ends it unconditionally.
    if (i < n) return this.cutAt(i + 1);
    this.len = base + n;
    return -1;
  }

  /**
   * Rolls data[i, end) into h, testing `mask` after each byte, in WebAssembly over copies of those
   * bytes in its memory, ROLL_STEP at a time. Returns the index after the first byte whose hash
   * has all mask bits clear, or -1 (with this.h saved) if none.
   */
  private roll(data: Uint8Array, i: number, end: number, mask: number): number {
    const r = getRoller();
    for (let from = i; from < end; from += ROLL_STEP) {
      const n = Math.min(ROLL_STEP, end - from);
      r.step.set(data.subarray(from, from + n));
      const cut = n >= TWO_LANES_FROM ? r.roll2(0, n, mask, this.h) : r.roll(0, n, mask, this.h);
      if (cut >= 0) return from + cut;
      this.h = r.h.value;
    }
    return -1;
  }

  private cutAt(end: number): number {
    this.len = 0;
    this.h = 0;
    return end;
  }
}
