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
   * The hot loop: rolls data[i, end) into h, testing `mask` after each byte. Returns the index
   * after the first byte whose hash has all mask bits clear, or -1 (with this.h saved) if none.
   * Everything stays int32 (`| 0`, Int32Array table, negative int32 mask) so V8 never boxes h;
   * unrolled by 8 because that measured ~1.6x faster than the plain loop in V8 (Node 20).
   */
  private roll(data: Uint8Array, i: number, end: number, mask: number): number {
    const G = GEAR;
    let h = this.h;
    for (const end8 = end - 7; i < end8; i += 8) {
      h = ((h << 1) + G[data[i]]) | 0;
      if ((h & mask) === 0) return i + 1;
      h = ((h << 1) + G[data[i + 1]]) | 0;
      if ((h & mask) === 0) return i + 2;
      h = ((h << 1) + G[data[i + 2]]) | 0;
      if ((h & mask) === 0) return i + 3;
      h = ((h << 1) + G[data[i + 3]]) | 0;
      if ((h & mask) === 0) return i + 4;
      h = ((h << 1) + G[data[i + 4]]) | 0;
      if ((h & mask) === 0) return i + 5;
      h = ((h << 1) + G[data[i + 5]]) | 0;
      if ((h & mask) === 0) return i + 6;
      h = ((h << 1) + G[data[i + 6]]) | 0;
      if ((h & mask) === 0) return i + 7;
      h = ((h << 1) + G[data[i + 7]]) | 0;
      if ((h & mask) === 0) return i + 8;
    }
    for (; i < end; i++) {
      h = ((h << 1) + G[data[i]]) | 0;
      if ((h & mask) === 0) return i + 1;
    }
    this.h = h;
    return -1;
  }

  private cutAt(end: number): number {
    this.len = 0;
    this.h = 0;
    return end;
  }
}
