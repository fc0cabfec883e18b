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

/** Bytes copied into the WebAssembly memory at a time; longer inputs are scanned in windows. */
const WINDOW = 4 * 1024 * 1024;
/** Where the scanned bytes start in that memory (the gear table fills the first 1 KiB). */
const DATA_AT = 1024;
const PAGE = 64 * 1024;

interface Roller {
  roll: (i: number, end: number, mask: number, h0: number) => number;
  roll2: (i: number, end: number, mask: number, h0: number) => number;
  h: { value: number };
  window: Uint8Array;
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
  const memory = instance.exports['memory'] as { buffer: ArrayBuffer; grow(pages: number): number };
  memory.grow(Math.ceil((DATA_AT + WINDOW) / PAGE) - memory.buffer.byteLength / PAGE);
  new Int32Array(memory.buffer, 0, 256).set(GEAR);
  roller = {
    roll: instance.exports['roll'] as Roller['roll'],
    roll2: instance.exports['roll2'] as Roller['roll2'],
    h: instance.exports['h'] as { value: number },
    window: new Uint8Array(memory.buffer, DATA_AT, WINDOW),
  };
  return roller;
}

/**
 * Stretches at least this long are rolled in two lanes (roll2 in gear-roll.wat): the shift/add
 * chain is the loop's whole latency, so two independent chains nearly double the bytes per cycle.
 * Shorter ones are not worth the second lane's 32-byte warm-up; roll2 needs at least 64.
 */
const TWO_LANES_FROM = 4096;

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
    const { window } = getRoller();
    for (let offset = 0; offset < data.length; offset += WINDOW) {
      const piece = data.subarray(offset, offset + WINDOW);
      window.set(piece);
      const n = piece.length;
      let at = 0;
      while (at < n) {
        at = this.nextCut(piece, at, n);
        if (at < 0) break;
        cuts.push(offset + at);
      }
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
      const cut = this.roll(i, strictEnd, this.maskStrict);
      if (cut >= 0) return this.cutAt(cut);
      i = strictEnd;
    }

    const looseEnd = Math.min(this.maxSize - 1 - base, n);
    if (i < looseEnd) {
      const cut = this.roll(i, looseEnd, this.maskLoose);
      if (cut >= 0) return this.cutAt(cut);
      i = looseEnd;
    }

    // The byte that brings the chunk to maxSize ends it unconditionally.
    if (i < n) return this.cutAt(i + 1);
    this.len = base + n;
    return -1;
  }

  /**
   * Rolls data[i, end) into h, testing `mask` after each byte, in WebAssembly over the copy of
   * this window that scan() placed in its memory. Returns the index after the first byte whose
   * hash has all mask bits clear, or -1 (with this.h saved) if none.
   */
  private roll(i: number, end: number, mask: number): number {
    const r = roller!;
    const cut = end - i >= TWO_LANES_FROM ? r.roll2(i, end, mask, this.h) : r.roll(i, end, mask, this.h);
    if (cut < 0) this.h = r.h.value;
    return cut;
  }

  private cutAt(end: number): number {
    this.len = 0;
    this.h = 0;
    return end;
  }
}
