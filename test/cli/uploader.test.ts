import { describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import { blake3Hex } from '../../src/hash/blake3.js';
import type { DatactlClient } from '../../cli/client.js';
import { decodeFrames, FRAME_HEADER_BYTES, frameSize, writeFrameHeader, type Frame } from '../../src/wire/frames.js';
import { ChunkUploader, uploadRequests, type PlacedFrame, type UploaderOptions } from '../../cli/transfer/uploader.js';
import { waitFor } from '../helpers/wait.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

/** A client that "has" some chunks, records uploads, and tracks upload concurrency. */
function fakeServer(has: Set<string> = new Set(), failUpload = false) {
  const uploaded: string[] = [];
  const requestSizes: number[] = [];
  /** How many parts each request body came in. */
  const requestParts: number[] = [];
  /** The distinct buffers chunk payloads were sent from (the uploader's arenas). */
  const arenas = new Set<ArrayBufferLike>();
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    async missingChunks(_repo: string, hashes: readonly string[]) {
      return { missing: hashes.filter((h) => !has.has(h)) };
    },
    async uploadChunks(_repo: string, parts: Uint8Array | readonly Uint8Array[]) {
      const body = Array.isArray(parts) ? Buffer.concat(parts as Uint8Array[]) : (parts as Uint8Array);
      if (Array.isArray(parts)) for (const p of parts as Uint8Array[]) arenas.add(p.buffer);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      if (failUpload) throw new DatactlError('E_CHUNK_HASH_MISMATCH', 'bad chunk');
      requestSizes.push(body.byteLength);
      requestParts.push(Array.isArray(parts) ? parts.length : 1);
      for await (const f of decodeFrames((async function* () { yield body; })())) uploaded.push(f.hash);
      return { received: 0, stored: 0, storedBytes: 0, deduplicated: 0 };
    },
  };
  return { client: client as unknown as DatactlClient, uploaded, requestSizes, requestParts, arenas, maxInFlight: () => maxInFlight };
}

const chunk = (seed: number, size = 1000): Frame => {
  const bytes = seededBytes(seed, size);
  return { hash: blake3Hex(bytes), bytes };
};

describe('ChunkUploader', () => {
  it('uploads only the chunks the server reports missing', async () => {
    const [a, b, c] = [chunk(1), chunk(2), chunk(3)];
    const server = fakeServer(new Set([b!.hash]));
    const up = new ChunkUploader(server.client, 'r');
    for (const f of [a!, b!, c!]) await up.add(f.hash, f.bytes);
    const stats = await up.finish();
    expect(server.uploaded.sort()).toEqual([a!.hash, c!.hash].sort());
    expect(stats).toEqual({ chunks: 3, uniqueChunks: 3, uploadedChunks: 2, uploadedBytes: 2000 });
  });

  it('fills at most inFlight + 1 arenas, however many readers add at once', async () => {
    const server = fakeServer();
    const up = new ChunkUploader(server.client, 'r', { batchBytes: 4000, inFlight: 2 });
    const reader = async (r: number) => {
      for (let i = 0; i < 20; i++) {
        const f = chunk(r * 100 + i);
        await up.add(f.hash, f.bytes);
      }
    };
    await Promise.all([0, 1, 2, 3].map(reader));
    expect(await up.finish()).toMatchObject({ uniqueChunks: 80, uploadedChunks: 80 });
    expect(server.arenas.size).toBeGreaterThan(1);
    expect(server.arenas.size).toBeLessThanOrEqual(3);
  });

  it('sends a chunk repeated across files once', async () => {
    const a = chunk(1);
    const server = fakeServer();
    const up = new ChunkUploader(server.client, 'r');
    for (let i = 0; i < 5; i++) await up.add(a.hash, a.bytes);
    expect(await up.finish()).toMatchObject({ chunks: 5, uniqueChunks: 1, uploadedChunks: 1 });
    expect(server.uploaded).toEqual([a.hash]);
  });

  it('copies bytes on add, so callers may reuse their buffers', async () => {
    const a = chunk(1);
    const buffer = Buffer.from(a.bytes);
    const server = fakeServer();
    const up = new ChunkUploader(server.client, 'r');
    await up.add(a.hash, buffer);
    buffer.fill(0);
    await up.finish(); // decodeFrames verifies each hash
    expect(server.uploaded).toEqual([a.hash]);
  });

  it('keeps at most inFlight batches uploading and every request under the size limit', async () => {
    const server = fakeServer();
    const up = new ChunkUploader(server.client, 'r', { batchBytes: 4000, requestBytes: 2100, inFlight: 2 });
    for (let i = 0; i < 40; i++) {
      const f = chunk(100 + i);
      await up.add(f.hash, f.bytes);
    }
    await up.finish();
    expect(server.uploaded).toHaveLength(40);
    expect(server.maxInFlight()).toBeLessThanOrEqual(2);
    expect(Math.max(...server.requestSizes)).toBeLessThanOrEqual(2100);
  });

  it('sends the frames the server lacks as one view per run of consecutive ones', async () => {
    const frames = Array.from({ length: 7 }, (_, i) => chunk(300 + i, 500));
    // The server has the third and the sixth: the rest go as three runs, in one request.
    const server = fakeServer(new Set([frames[2]!.hash, frames[5]!.hash]));
    const up = new ChunkUploader(server.client, 'r');
    for (const f of frames) await up.add(f.hash, f.bytes);
    await up.finish();
    expect(server.uploaded).toEqual([0, 1, 3, 4, 6].map((i) => frames[i]!.hash));
    expect(server.requestParts).toEqual([3]);
  });

  it('addNow places a chunk without a promise until one would fill the batch, counting each chunk once', async () => {
    const server = heldServer();
    const up = new ChunkUploader(server.client, 'r', { batchChunks: 3, inFlight: 1 });
    const [a, b, c, d] = [chunk(1), chunk(2), chunk(3), chunk(4)];
    expect(up.addNow(a.hash, a.bytes)).toBe(1);
    expect(up.addNow(b.hash, b.bytes)).toBe(1);
    expect(up.addNow(a.hash, a.bytes)).toBe(1); // seen: no room needed
    expect(up.addNow(c.hash, c.bytes)).toBeUndefined(); // would fill batch 1: add must send it
    expect(up.stats).toMatchObject({ chunks: 3, uniqueChunks: 2 });
    expect(await up.add(c.hash, c.bytes)).toBe(1);
    await settled();
    expect(server.held).toHaveLength(1);
    // Batch 1 holds the only slot; batch 2 is not full, so placing in it needs no wait.
    expect(up.addNow(d.hash, d.bytes)).toBe(2);
    expect(up.stats).toMatchObject({ chunks: 5, uniqueChunks: 4 });
    server.held[0]!.answer();
    const finishing = up.finish();
    await settled();
    expect(server.held).toHaveLength(2);
    server.held[1]!.answer();
    await finishing;
  });

  it('addNow leaves to add a chunk whose frame does not fit the arena, and places it once add sends the batch', async () => {
    const server = heldServer();
    // Room for three 1000-byte frames, but not four, by bytes; no chunk-count limit in play.
    const up = new ChunkUploader(server.client, 'r', { batchBytes: 4 * frameSize(1000) - 1, inFlight: 1 });
    const frames = [chunk(1), chunk(2), chunk(3), chunk(4)];
    for (const f of frames.slice(0, 3)) expect(up.addNow(f.hash, f.bytes)).toBe(1);
    expect(up.addNow(frames[3]!.hash, frames[3]!.bytes)).toBeUndefined();
    expect(up.stats).toMatchObject({ chunks: 3, uniqueChunks: 3 });
    expect(await up.add(frames[3]!.hash, frames[3]!.bytes)).toBe(2);
    await settled();
    expect(server.held).toHaveLength(1); // batch 1 went out to make room
    server.held[0]!.answer();
    const finishing = up.finish();
    await settled();
    server.held[1]!.answer();
    await finishing;
  });

  it('surfaces the first upload failure from finish', async () => {
    const server = fakeServer(new Set(), true);
    const up = new ChunkUploader(server.client, 'r');
    const f = chunk(1);
    await up.add(f.hash, f.bytes);
    await expect(up.finish()).rejects.toMatchObject({ code: 'E_CHUNK_HASH_MISMATCH' });
  });
});

/** A client whose uploads are answered only when the test says, in any order. */
function heldServer() {
  const held: Array<{ answer: () => void; fail: (err: unknown) => void }> = [];
  const client = {
    async missingChunks(_repo: string, hashes: readonly string[]) {
      return { missing: [...hashes] };
    },
    uploadChunks() {
      return new Promise((resolve, reject) => {
        held.push({ answer: () => resolve({ received: 0, stored: 0, storedBytes: 0, deduplicated: 0 }), fail: reject });
      });
    },
  };
  return { client: client as unknown as DatactlClient, held };
}

const settled = () => new Promise((r) => setTimeout(r, 10));

describe('ChunkUploader batch numbers', () => {
  it('names the batch that carries each chunk: a repeated chunk, the batch of its first copy', async () => {
    const server = heldServer();
    const up = new ChunkUploader(server.client, 'r', { batchChunks: 2, inFlight: 4 });
    const [a, b, c] = [chunk(1), chunk(2), chunk(3)];
    expect(await up.add(a.hash, a.bytes)).toBe(1);
    expect(await up.add(b.hash, b.bytes)).toBe(1); // full: batch 1 goes out
    expect(await up.add(c.hash, c.bytes)).toBe(2);
    expect(await up.add(a.hash, a.bytes)).toBe(1);
    expect(await up.add(c.hash, c.bytes)).toBe(2);
  });

  it('uploaded(n) waits until batches 1..n are all answered, whatever order they are answered in', async () => {
    const server = heldServer();
    const up = new ChunkUploader(server.client, 'r', { batchChunks: 1, inFlight: 4 });
    for (let i = 1; i <= 3; i++) await up.add(chunk(i).hash, chunk(i).bytes);
    await settled();
    expect(server.held).toHaveLength(3);
    const done: number[] = [];
    for (const n of [1, 2, 3]) void up.uploaded(n).then(() => done.push(n));
    await expect(up.uploaded(0)).resolves.toBeUndefined();
    server.held[1]!.answer();
    server.held[2]!.answer();
    await settled();
    expect(done).toEqual([]); // batch 1 is still out
    server.held[0]!.answer();
    await settled();
    expect(done.sort()).toEqual([1, 2, 3]);
    await up.finish();
  });

  it('lets batches of few, large chunks go four at once, but batches of thousands of small ones two', async () => {
    /** The most uploads a put of `chunks` keeps unanswered at once, the adder then waiting for a slot. */
    const mostInFlight = async (options: UploaderOptions, chunks: Frame[], expected: number) => {
      const server = heldServer();
      const up = new ChunkUploader(server.client, 'r', options);
      let done = false;
      const finished = (async () => {
        for (const f of chunks) await up.add(f.hash, f.bytes);
        await up.finish();
        done = true;
      })();
      await waitFor(() => server.held.length >= expected);
      await settled(); // time for one more to go out, if the bound let it
      const most = server.held.length;
      let answered = 0;
      while (!done) {
        while (answered < server.held.length) server.held[answered++]!.answer();
        await settled();
      }
      await finished;
      return most;
    };
    const large = Array.from({ length: 12 }, (_, i) => chunk(1000 + i, 1000));
    const small = Array.from({ length: 6 * 1100 }, (_, i) => chunk(2000 + i, 64));
    expect(await mostInFlight({ batchChunks: 1 }, large, 4)).toBe(4);
    expect(await mostInFlight({ batchChunks: 1100, batchBytes: 1 << 20 }, small, 2)).toBe(2);
    // An explicit inFlight alone bounds both kinds.
    expect(await mostInFlight({ batchChunks: 1, inFlight: 2 }, large, 2)).toBe(2);
    expect(await mostInFlight({ batchChunks: 1, inFlight: 1, inFlightLarge: 3 }, large, 3)).toBe(3);
  });

  it('uploaded(n) rejects with the upload failure, then and later', async () => {
    const server = heldServer();
    const up = new ChunkUploader(server.client, 'r', { batchChunks: 1, inFlight: 4 });
    for (let i = 1; i <= 2; i++) await up.add(chunk(i).hash, chunk(i).bytes);
    await settled();
    const waiting = up.uploaded(2);
    server.held[0]!.fail(new DatactlError('E_CHUNK_HASH_MISMATCH', 'bad chunk'));
    await expect(waiting).rejects.toMatchObject({ code: 'E_CHUNK_HASH_MISMATCH' });
    server.held[1]!.answer();
    await expect(up.uploaded(1)).rejects.toMatchObject({ code: 'E_CHUNK_HASH_MISMATCH' });
    await expect(up.finish()).rejects.toMatchObject({ code: 'E_CHUNK_HASH_MISMATCH' });
  });
});

/** Frames written back to back into one buffer, as the uploader's arenas hold them. */
function placed(frames: readonly Frame[], buf = Buffer.alloc(frames.reduce((n, f) => n + frameSize(f.bytes.byteLength), 0))): PlacedFrame[] {
  let at = 0;
  return frames.map((f) => {
    writeFrameHeader(buf, at, f.hash, f.bytes.byteLength);
    buf.set(f.bytes, at + FRAME_HEADER_BYTES);
    const p = { hash: f.hash, buf, at, size: f.bytes.byteLength };
    at += frameSize(f.bytes.byteLength);
    return p;
  });
}

async function hashesOf(parts: readonly Uint8Array[]): Promise<string[]> {
  const hashes: string[] = [];
  for await (const f of decodeFrames((async function* () { yield Buffer.concat(parts); })())) hashes.push(f.hash);
  return hashes;
}

describe('uploadRequests', () => {
  it('splits frames into requests under the limit, a lone oversized frame alone', () => {
    const frames = placed([chunk(1, 100), chunk(2, 100), chunk(3, 500), chunk(4, 10)]);
    const requests = uploadRequests(frames, 2 * (100 + FRAME_HEADER_BYTES));
    expect(requests.map((r) => r.chunks)).toEqual([2, 1, 1]);
    expect(requests.map((r) => r.bytes)).toEqual([200, 500, 10]);
    expect(requests.map((r) => r.parts.length)).toEqual([1, 1, 1]);
  });

  it('sends each run of frames lying back to back as one view, and breaks runs at gaps and buffers', async () => {
    const [a, b, c, d, e] = [chunk(1), chunk(2), chunk(3), chunk(4), chunk(5)];
    const inOne = placed([a!, b!, c!]);
    // d starts in the other buffer where c ends in the first: the same offset, another run.
    const inOther = placed([chunk(6), chunk(7), chunk(8), d!, e!]).slice(3);
    expect(inOther[0]!.at).toBe(inOne[2]!.at + frameSize(1000));
    // b is left out (the server has it): a, then c; then d and e from another buffer.
    const [request, ...more] = uploadRequests([inOne[0]!, inOne[2]!, ...inOther], 1 << 20);
    expect(more).toEqual([]);
    expect(request!.parts.map((p) => p.byteLength)).toEqual([frameSize(1000), frameSize(1000), 2 * frameSize(1000)]);
    expect(await hashesOf(request!.parts)).toEqual([a!.hash, c!.hash, d!.hash, e!.hash]);
    expect(request).toMatchObject({ chunks: 4, bytes: 4000 });
  });

  it('makes no request of no frames', () => {
    expect(uploadRequests([], 1000)).toEqual([]);
  });
});
