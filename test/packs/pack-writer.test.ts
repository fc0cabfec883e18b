import { describe, expect, it } from 'vitest';
import { blake3Hex } from '../../src/hash/blake3.js';
import { packKey } from '../../src/packs/chunk-location.js';
import { PackWriter } from '../../src/packs/pack-writer.js';
import { MemoryObjectStore } from '../../src/storage/memory-store.js';
import type { ChunkHash } from '../../src/types.js';
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

  it('hands the store the very buffers it was given, never copies', async () => {
    const store = new RecordingStore();
    const writer = new PackWriter(store, 1024 * 1024);
    const parts = reads(seededBytes(3, 200_000), 65536);
    await writer.addParts(blake3Hex(Buffer.concat(parts)), parts, 200_000);
    await writer.flush();
    expect(store.puts).toHaveLength(1);
    expect(store.puts[0]!.parts).toHaveLength(parts.length);
    expect(store.puts[0]!.parts.every((p, i) => p === parts[i])).toBe(true);
  });

  it('stores a chunk once however often it is added', async () => {
    const store = new RecordingStore();
    const writer = new PackWriter(store, 1024 * 1024);
    const a = seededBytes(4, 1000);
    await writer.add(blake3Hex(a), a);
    await writer.addParts(blake3Hex(a), [a], a.length);
    await writer.flush();
    expect(writer.locations()).toHaveLength(1);
  });

  it('flushes once the buffers its chunks keep alive reach twice the target, however small the chunks', async () => {
    // Tiny chunks, each a view into its own 64 KiB read (their neighbours were deduplicated away):
    // 32 of them pin 2 MiB of reads while holding only 3.2 KB of chunk bytes.
    const store = new RecordingStore();
    const writer = new PackWriter(store, 1024 * 1024);
    for (let i = 0; i < 40; i++) {
      const read = seededBytes(100 + i, 65536);
      const chunk = read.subarray(1000, 1100);
      await writer.addParts(blake3Hex(chunk) as ChunkHash, [chunk], chunk.length);
    }
    expect(store.puts).toHaveLength(1);
    expect(store.puts[0]!.parts).toHaveLength(32);
    expect(writer.pendingBytes).toBe(8 * 100);
  });

  it('counts a read shared by consecutive chunks once', async () => {
    const store = new RecordingStore();
    const writer = new PackWriter(store, 1024 * 1024);
    const read = seededBytes(7, 65536);
    for (let i = 0; i < 600; i++) {
      const chunk = read.subarray(i * 100, i * 100 + 100);
      await writer.addParts(blake3Hex(chunk) as ChunkHash, [chunk], chunk.length);
    }
    expect(store.puts).toHaveLength(0);
    expect(writer.pendingBytes).toBe(60_000);
  });
});
