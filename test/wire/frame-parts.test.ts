import { describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import { blake3Hex, blake3HexParts } from '../../src/hash/blake3.js';
import { decodeFrameParts, encodeFrames, type FrameParts } from '../../src/wire/frames.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

const payloads = [1, 37, 1000, 4096, 65537, 140_000].map((n, i) => seededBytes(i + 1, n));
const encoded = encodeFrames(payloads.map((bytes) => ({ hash: blake3Hex(bytes), bytes })));

/** Cut `data` into fresh buffers at the given sizes (cycling), as socket reads arrive. */
function cut(data: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(Uint8Array.from(data.subarray(offset, offset + n)));
    offset += n;
  }
  return out;
}

async function* from(pieces: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* pieces;
}

async function collect(source: AsyncIterable<FrameParts[]>): Promise<FrameParts[]> {
  return (await batches(source)).flat();
}

async function batches(source: AsyncIterable<FrameParts[]>): Promise<FrameParts[][]> {
  const out: FrameParts[][] = [];
  for await (const batch of source) out.push(batch);
  return out;
}

async function errorCode(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DatactlError);
  return (err as DatactlError).code;
}

describe('decodeFrameParts', () => {
  for (const sizes of [[1 << 30], [65536], [7], [7, 13, 65536], [36], [35, 37]]) {
    it(`yields payloads whose parts concatenate to the bytes sent (reads of ${sizes.join(', ')})`, async () => {
      const frames = await collect(decodeFrameParts(from(cut(encoded, sizes))));
      expect(frames.map((f) => f.hash)).toEqual(payloads.map((p) => blake3Hex(p)));
      frames.forEach((f, i) => {
        expect(f.length).toBe(payloads[i]!.length);
        expect(Buffer.concat(f.parts).equals(payloads[i]!)).toBe(true);
        expect(f.parts.every((p) => p.byteLength > 0)).toBe(true);
      });
    });
  }

  // Sockets deliver Node Buffers (headers are read in place), tests above plain Uint8Arrays.
  for (const sizes of [[65536], [36], [35, 37], [7, 13, 65536]]) {
    it(`decodes the same from Node Buffers (reads of ${sizes.join(', ')})`, async () => {
      const pieces = cut(encoded, sizes).map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
      const frames = await collect(decodeFrameParts(from(pieces)));
      expect(frames.map((f) => f.hash)).toEqual(payloads.map((p) => blake3Hex(p)));
      frames.forEach((f, i) => expect(Buffer.concat(f.parts).equals(payloads[i]!)).toBe(true));
    });
  }

  it('never copies a payload: every part is a view of a buffer the stream delivered', async () => {
    const pieces = cut(encoded, [65536, 1000]);
    const delivered = new Set(pieces.map((p) => p.buffer));
    const frames = await collect(decodeFrameParts(from(pieces)));
    const parts = frames.flatMap((f) => f.parts);
    expect(parts.every((p) => delivered.has(p.buffer))).toBe(true);
    // The 140 KB payload spans several 64 KiB reads and comes as one view per read it touches.
    expect(frames.at(-1)!.parts.length).toBeGreaterThanOrEqual(3);
  });

  it('yields every frame a read completes in one batch, and no empty batches', async () => {
    // One read of everything: one batch of all six frames.
    expect((await batches(decodeFrameParts(from([encoded])))).map((b) => b.length)).toEqual([6]);
    // 64 KiB reads: the first completes the four small frames, the 65537-byte payload ends in the
    // second read, the 140 KB one in the fourth (last); the third completes nothing, yields nothing.
    const sizes = (await batches(decodeFrameParts(from(cut(encoded, [65536]))))).map((b) => b.length);
    expect(sizes).toEqual([4, 1, 1]);
  });

  it('does not verify payloads: the caller hashes the parts and decides what a mismatch means', async () => {
    const forged = Buffer.from(encoded);
    forged[forged.length - 1]! ^= 0xff;
    const frames = await collect(decodeFrameParts(from([forged])));
    const last = frames.at(-1)!;
    expect(blake3HexParts(last.parts)).not.toBe(last.hash);
  });

  it('throws E_TRUNCATED_UPLOAD when the stream ends inside a header or a payload', async () => {
    expect(await errorCode(collect(decodeFrameParts(from(cut(encoded.subarray(0, encoded.length - 1), [4096])))))).toBe('E_TRUNCATED_UPLOAD');
    expect(await errorCode(collect(decodeFrameParts(from([encoded.subarray(0, 20)]))))).toBe('E_TRUNCATED_UPLOAD');
  });

  it('refuses a frame larger than maxFrameBytes before reading its payload', async () => {
    expect(await errorCode(collect(decodeFrameParts(from([encoded]), { maxFrameBytes: 100_000 })))).toBe('E_PAYLOAD_TOO_LARGE');
  });
});

describe('blake3HexParts', () => {
  it('hashes parts as their concatenation, wherever the cuts fall', () => {
    const data = seededBytes(9, 150_001);
    for (const sizes of [[150_001], [17], [1024], [1000, 65536], [65536]]) {
      expect(blake3HexParts(cut(data, sizes))).toBe(blake3Hex(data));
    }
    expect(blake3HexParts([])).toBe(blake3Hex(new Uint8Array(0)));
  });
});
