import { describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import { blake3Hex } from '../../src/hash/blake3.js';
import { BufferPool } from '../../src/util/buffer-pool.js';
import { decodeFrameBatches, decodeFrames, encodeFrameHeader, encodeFrames, FRAME_HEADER_BYTES, frameStream, type Frame } from '../../src/wire/frames.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import type { ChunkHash } from '../../src/types.js';

function frameOf(bytes: Uint8Array): Frame {
  return { hash: blake3Hex(bytes), bytes };
}

const frames = [0, 1, 2, 3, 4].map((i) => frameOf(seededBytes(i + 1, [1, 37, 1000, 4096, 65537][i]!)));

/** Cut `data` into pieces at the given sizes (cycling), as a network would. */
async function* pieces(data: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.subarray(offset, offset + n);
    offset += n;
  }
}

async function collect(source: AsyncIterable<Frame>): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const f of source) out.push({ hash: f.hash, bytes: Uint8Array.from(f.bytes) });
  return out;
}

async function errorCode(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatactlError);
  return (err as DatactlError).code;
}

describe('chunk frames', () => {
  it('encode as 32-byte raw hash, 4-byte big-endian length, then the bytes', () => {
    const bytes = Buffer.from('abc');
    const encoded = encodeFrames([frameOf(bytes)]);
    expect(encoded.length).toBe(FRAME_HEADER_BYTES + 3);
    expect(encoded.subarray(0, 32).toString('hex')).toBe(blake3Hex(bytes));
    expect(encoded.readUInt32BE(32)).toBe(3);
    expect(encoded.subarray(36).toString()).toBe('abc');
    expect(encodeFrameHeader(blake3Hex(bytes), 3)).toEqual(encoded.subarray(0, 36));
  });

  it('refuse to encode a header for what is not a 64-hex hash (E_INVALID_HASH)', () => {
    const hash = blake3Hex(Buffer.from('abc'));
    const upper = hash.replace(/[a-f]/, (c) => c.toUpperCase());
    for (const bad of [hash.slice(0, 62), `${hash}00`, `${hash.slice(0, 40)}zz${hash.slice(42)}`, `${hash.slice(0, 63)}g`, '', upper, `${hash.slice(0, 63)}/`, `${hash.slice(0, 63)}:`, `${hash.slice(0, 63)}\``]) {
      let code: string | undefined;
      try {
        encodeFrameHeader(bad as ChunkHash, 3);
      } catch (err) {
        code = (err as DatactlError).code;
      }
      expect(code, bad).toBe('E_INVALID_HASH');
    }
  });

  it('decode in batches: the frames each network piece completes, the same frames as one at a time, payloads not verified', async () => {
    const encoded = encodeFrames(frames);
    // Pieces: the first three frames' bytes (1 + 37 + 1000 plus headers) in one, then 2000-byte cuts.
    const first = 3 * FRAME_HEADER_BYTES + 1 + 37 + 1000;
    const cut = async function* () {
      yield encoded.subarray(0, first);
      yield* pieces(encoded.subarray(first), [2000]);
    };
    const batches: Frame[][] = [];
    for await (const batch of decodeFrameBatches(cut())) batches.push(batch.map((f) => ({ hash: f.hash, bytes: Uint8Array.from(f.bytes) })));
    expect(batches.map((b) => b.length)).toEqual([3, 1, 1]);
    expect(batches.flat()).toEqual(await collect(decodeFrames(pieces(encoded, [2000]))));
    const corrupt = Uint8Array.from(encoded);
    corrupt[corrupt.length - 1]! ^= 0xff;
    expect((await collect((async function* () { for await (const b of decodeFrameBatches(pieces(corrupt, [500]))) yield* b; })())).length).toBe(frames.length);
  });

  it('round-trip whole', async () => {
    const decoded = await collect(decodeFrames(pieces(encodeFrames(frames), [1 << 30])));
    expect(decoded).toEqual(frames.map((f) => ({ hash: f.hash, bytes: Uint8Array.from(f.bytes) })));
  });

  it('stream as the same bytes, small frames coalesced into few pieces and large payloads passed through uncopied', async () => {
    const many = [...frames, ...frames, frameOf(seededBytes(9, 300_000)), ...frames];
    const pieces: Uint8Array[] = [];
    for await (const piece of frameStream(many, { coalesceBytes: 32768 })) pieces.push(piece);
    expect(Buffer.concat(pieces).equals(encodeFrames(many))).toBe(true);
    // 1, 37, 1000 and 4096 bytes share a buffer per run; 65537 and 300000 (> 32768 / 4) go out as
    // header + the payload itself: 3 coalesced runs + 4 x 2 pieces, instead of 2 per frame.
    const passedThrough = pieces.filter((p) => many.some((f) => f.bytes === p));
    expect(passedThrough.map((p) => p.byteLength)).toEqual([65537, 65537, 300_000, 65537]);
    expect(pieces.length).toBe(11);
  });

  it('stream frames given in arrays (a chunk reader\'s runs) as the same bytes as given one by one', async () => {
    const big = frameOf(seededBytes(9, 300_000));
    const items: Array<Frame | Frame[]> = [frames.slice(0, 3), frames[3]!, [big, ...frames], [], frames[4]!, [...frames]];
    const many = items.flat();
    const copied: Uint8Array[] = [];
    const pieces: Uint8Array[] = [];
    for await (const piece of frameStream(items, { coalesceBytes: 32768, copied: (bytes) => copied.push(bytes) })) pieces.push(piece);
    expect(Buffer.concat(pieces).equals(encodeFrames(many))).toBe(true);
    expect(copied).toEqual(many.filter((f) => f.bytes.byteLength <= 32768 / 4).map((f) => f.bytes));
    const one: Uint8Array[] = [];
    for await (const piece of frameStream(many, { coalesceBytes: 32768 })) one.push(piece);
    expect(pieces.map((p) => p.byteLength)).toEqual(one.map((p) => p.byteLength));
  });

  it('stream through pooled buffers: each coalesced piece lent once, each copied payload reported', async () => {
    const many = [...frames, frameOf(seededBytes(9, 300_000)), ...frames];
    const pool = new BufferPool(32768, 4);
    const copied: Uint8Array[] = [];
    const pieces: Uint8Array[] = [];
    for await (const piece of frameStream(many, { pool, copied: (bytes) => copied.push(bytes) })) pieces.push(piece);
    expect(Buffer.concat(pieces).equals(encodeFrames(many))).toBe(true);
    // Copied: every payload of at most a quarter of the piece size, in order; the rest went out as pieces.
    expect(copied).toEqual(many.filter((f) => f.bytes.byteLength <= 32768 / 4).map((f) => f.bytes));
    const coalesced = pieces.filter((p) => p.buffer.byteLength === 32768);
    expect(coalesced.length).toBeGreaterThan(1);
    // A coalesced piece's buffer is taken again only once the piece is released.
    const taken = pool.take();
    expect(coalesced.some((p) => p.buffer === taken.buffer)).toBe(false);
    for (const p of pieces) pool.release(p);
    const again = pool.take();
    expect(coalesced.some((p) => p.buffer === again.buffer)).toBe(true);
  });

  it('round-trip when split across arbitrary buffer boundaries', async () => {
    const encoded = encodeFrames(frames);
    for (const sizes of [[1], [2, 3], [35], [36], [37], [7, 1, 4096, 13], [65536 + 36]]) {
      const decoded = await collect(decodeFrames(pieces(encoded, sizes)));
      expect(decoded.map((f) => f.hash), `sizes ${sizes.join(',')}`).toEqual(frames.map((f) => f.hash));
      decoded.forEach((f, i) => expect(Buffer.from(f.bytes).equals(Buffer.from(frames[i]!.bytes))).toBe(true));
    }
  });

  it('decode an empty stream to no frames', async () => {
    expect(await collect(decodeFrames(pieces(new Uint8Array(0), [1])))).toEqual([]);
  });

  it('throw E_TRUNCATED_UPLOAD for a stream that ends mid-payload', async () => {
    const encoded = encodeFrames(frames);
    expect(await errorCode(collect(decodeFrames(pieces(encoded.subarray(0, encoded.length - 1), [100]))))).toBe('E_TRUNCATED_UPLOAD');
  });

  it('throw E_TRUNCATED_UPLOAD for a stream that ends mid-header', async () => {
    const encoded = encodeFrames(frames.slice(0, 2));
    const cut = FRAME_HEADER_BYTES + frames[0]!.bytes.length + 10;
    expect(await errorCode(collect(decodeFrames(pieces(encoded.subarray(0, cut), [3]))))).toBe('E_TRUNCATED_UPLOAD');
  });

  it('reject a payload that does not hash to its claimed hash (E_CORRUPT_OBJECT)', async () => {
    const encoded = encodeFrames(frames);
    encoded[encoded.length - 1] ^= 0xff;
    expect(await errorCode(collect(decodeFrames(pieces(encoded, [500]))))).toBe('E_CORRUPT_OBJECT');
  });

  it('pass a corrupt payload through when verification is off', async () => {
    const encoded = encodeFrames(frames);
    encoded[encoded.length - 1] ^= 0xff;
    expect(await collect(decodeFrames(pieces(encoded, [500]), { verify: false }))).toHaveLength(frames.length);
  });

  it('refuse to buffer a frame longer than the limit (E_PAYLOAD_TOO_LARGE)', async () => {
    const header = encodeFrameHeader(frames[0]!.hash, 1000);
    expect(await errorCode(collect(decodeFrames(pieces(header, [36]), { maxFrameBytes: 999 })))).toBe('E_PAYLOAD_TOO_LARGE');
  });
});
