import { describe, expect, it } from 'vitest';
import { blake3Hex } from '../../src/hash/blake3.js';
import { packKey } from '../../src/packs/chunk-location.js';
import { PackWriter } from '../../src/packs/pack-writer.js';
import { MemoryObjectStore } from '../../src/storage/memory-store.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

/** A memory store that also remembers the parts each put was given (to see what was copied). */
class RecordingStore extends MemoryObjectStore {
  readonly puts: Array<{ key: string; parts: readonly Uint8Array[] }> = [];
  override async put(key: string, body: readonly Uint8Array[]): Promise<void> {
    this.puts.push({ key, parts: body });
    await super.put(key, body);
  }
}

/** `bytes` cut into fresh buffers of `size`, like socket reads. */
function reads(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += size) out.push(Uint8Array.from(bytes.subarray(o, o + size)));
  return out;
}

describe('PackWriter', () => {
  it('writes chunks given as parts as one pack of their concatenation, and reports where each lies', async () => {
    const store = new RecordingStore();
    const writer = new PackWriter(store, 1024 * 1024);
    const a = seededBytes(1, 100_000);
    const b = seededBytes(2, 5_000);
    await writer.addParts(blake3Hex(a), reads(a, 65536), a.length);
    await writer.add(blake3Hex(b), b);
    await writer.flush();

    const [[hashA, locA], [hashB, locB]] = writer.locations();
    expect([hashA, locA.offset, locA.length]).toEqual([blake3Hex(a), 0, a.length]);
    expect([hashB, locB.offset, locB.length]).toEqual([blake3Hex(b), a.length, b.length]);
    expect(locB.pack).toBe(locA.pack);
    const stored = await store.getRange(packKey(locA.pack), 0, a.length + b.length);
    expect(stored.equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('copies what it stages, so the caller may reuse its buffers at once', async () => {
    const store = new RecordingStore();
    const writer = new PackWriter(store, 1024 * 1024);
    const a = seededBytes(3, 200_000);
    const parts = reads(a, 65536);
    await writer.addParts(blake3Hex(a), parts, a.length);
    for (const part of parts) part.fill(0); // the socket buffer is recycled before the pack is written
    await writer.flush();
    const [[, loc]] = writer.locations();
    expect((await store.getRange(packKey(loc.pack), 0, a.length)).equals(a)).toBe(true);
    expect(store.puts[0]!.parts.some((p) => parts.includes(p))).toBe(false);
  });

  it('when asked to verify, hashes the copy and takes a mismatch back out of the pack', async () => {
    const store = new RecordingStore();
    const writer = new PackWriter(store, 1024 * 1024);
    const a = seededBytes(5, 150_000);
    const forged = seededBytes(6, 150_000);
    await writer.addParts(blake3Hex(a), reads(a, 65536 + 7), a.length, true);
    const failed = writer.addParts(blake3Hex(a.subarray(1)), reads(forged, 65536 + 7), forged.length, true);
    await expect(failed).rejects.toMatchObject({ code: 'E_CHUNK_HASH_MISMATCH', details: { claimed: blake3Hex(a.subarray(1)), actual: blake3Hex(forged) } });
    expect(writer.pendingBytes).toBe(a.length);
    await writer.flush();
    expect([...writer.locations()].map(([h]) => h)).toEqual([blake3Hex(a)]);
    expect((await store.getRange(packKey([...writer.locations()][0]![1].pack), 0, a.length)).equals(a)).toBe(true);
  });

  it('verifies a chunk larger than the target before writing it alone', async () => {
    const store = new RecordingStore();
    const writer = new PackWriter(store, 10_000);
    const big = seededBytes(7, 25_000);
    await expect(writer.addParts(blake3Hex(seededBytes(8, 25_000)), reads(big, 8192), big.length, true)).rejects.toMatchObject({ code: 'E_CHUNK_HASH_MISMATCH' });
    expect(store.puts).toEqual([]);
  });

  it('stores a chunk once however often it is added', async () => {
    const store = new RecordingStore();
    const writer = new PackWriter(store, 1024 * 1024);
    const a = seededBytes(4, 1000);
    await writer.add(blake3Hex(a), a);
    await writer.addParts(blake3Hex(a), [a], a.length);
    await writer.flush();
    expect([...writer.locations()]).toHaveLength(1);
  });

  it('never lets a pack outgrow the target: a chunk that would overflow it starts the next one', async () => {
    const store = new RecordingStore();
    const writer = new PackWriter(store, 10_000);
    const chunks = [4000, 4000, 4000, 6000, 1].map((size, i) => seededBytes(200 + i, size));
    for (const c of chunks) await writer.add(blake3Hex(c), c);
    expect(writer.pendingBytes).toBe(1); // 8000 | 4000+6000 (exactly full, written at once) | 1 pending
    await writer.flush();
    const sizes = store.puts.map((p) => p.parts.reduce((n, x) => n + x.byteLength, 0));
    expect(sizes).toEqual([8000, 10_000, 1]);
    for (const [hash, loc] of writer.locations()) {
      const bytes = await store.getRange(packKey(loc.pack), loc.offset, loc.length);
      expect(blake3Hex(bytes)).toBe(hash);
    }
  });

  it('writes a chunk larger than the target as a pack of its own, after the pack before it', async () => {
    const store = new RecordingStore();
    const writer = new PackWriter(store, 10_000);
    const small = seededBytes(300, 3000);
    const big = seededBytes(301, 25_000);
    await writer.add(blake3Hex(small), small);
    await writer.addParts(blake3Hex(big), reads(big, 8192), big.length);
    expect(writer.pendingBytes).toBe(0);
    const locs = [...writer.locations()];
    expect(locs.map(([, l]) => [l.offset, l.length])).toEqual([
      [0, 3000],
      [0, 25_000],
    ]);
    expect(locs[0]![1].pack).not.toBe(locs[1]![1].pack);
    expect((await store.getRange(packKey(locs[1]![1].pack), 0, big.length)).equals(big)).toBe(true);
  });

  it('packs written one after another by different writers keep their own bytes (buffers are reused)', async () => {
    const store = new MemoryObjectStore();
    const expected: Array<[string, Uint8Array]> = [];
    for (let w = 0; w < 4; w++) {
      const writer = new PackWriter(store, 64 * 1024);
      for (let i = 0; i < 20; i++) {
        const c = seededBytes(400 + w * 20 + i, 3000 + i);
        await writer.add(blake3Hex(c), c);
        expected.push([blake3Hex(c), c]);
      }
      await writer.flush();
      for (const [hash, loc] of writer.locations()) {
        const want = expected.find(([h]) => h === hash)![1];
        expect((await store.getRange(packKey(loc.pack), loc.offset, loc.length)).equals(want)).toBe(true);
      }
    }
  });
});
