/**
 * Deterministic pseudo-random bytes for golden vectors and large-input tests: the same seed gives
 * the same bytes on every machine and Node version, and no fixture files need to be committed.
 *
 * Generator: splitmix32 (a Weyl sequence `s += 0x9e3779b9` through the murmur3 finalizer). Each
 * step yields one uint32, emitted as 4 bytes little-endian. The seed is taken modulo 2^32.
 * Not cryptographic; good enough that chunk boundaries behave as on real random data.
 */
class SplitMix32Bytes {
  private state: number;
  private word = 0;
  private left = 0; // unread bytes of `word`

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  fill(out: Uint8Array): Uint8Array {
    let i = 0;
    const n = out.length;
    for (; this.left > 0 && i < n; i++, this.left--) out[i] = this.takeByte();
    for (; i + 4 <= n; i += 4) {
      const w = this.nextWord();
      out[i] = w;
      out[i + 1] = w >>> 8;
      out[i + 2] = w >>> 16;
      out[i + 3] = w >>> 24;
    }
    if (i < n) {
      this.word = this.nextWord();
      this.left = 4;
      for (; i < n; i++, this.left--) out[i] = this.takeByte();
    }
    return out;
  }

  private takeByte(): number {
    return (this.word >>> (8 * (4 - this.left))) & 0xff;
  }

  private nextWord(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }
}

/** `length` deterministic bytes for `seed`. */
export function seededBytes(seed: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  new SplitMix32Bytes(seed).fill(out);
  return out;
}

/**
 * The same bytes as `seededBytes(seed, length)`, yielded as fresh buffers of `pieceSize` bytes
 * (the last one shorter), generated lazily so large streams need no large allocation.
 */
export async function* seededStream(seed: number, length: number, pieceSize: number): AsyncGenerator<Buffer> {
  if (!(pieceSize > 0)) throw new RangeError(`pieceSize must be positive, got ${pieceSize}`);
  const gen = new SplitMix32Bytes(seed);
  for (let done = 0; done < length; ) {
    const piece = Buffer.allocUnsafe(Math.min(pieceSize, length - done));
    gen.fill(piece);
    done += piece.length;
    yield piece;
  }
}
