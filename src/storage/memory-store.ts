import { fail } from '../errors.js';
import { assertObjectKey, assertRange } from './local-store.js';
import type { ObjectStore } from './object-store.js';

/**
 * Objects in a Map, for unit tests of higher layers. Same contract and key rules as the durable
 * adapters (it runs the same conformance suite); bytes are copied in and out so callers cannot
 * mutate stored objects.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly description = 'memory://';
  private readonly objects = new Map<string, Buffer>();

  async put(key: string, body: readonly Uint8Array[]): Promise<void> {
    assertObjectKey(key);
    if (this.objects.has(key)) return; // write-once
    this.objects.set(key, Buffer.concat(body));
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    const bytes = this.objectOf(key);
    assertRange(offset, length);
    if (offset + length > bytes.length) {
      throw fail('E_CORRUPT_OBJECT', `object ${key} is shorter than ${offset + length} bytes`, { key });
    }
    return Buffer.from(bytes.subarray(offset, offset + length));
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    assertObjectKey(key);
    const bytes = this.objects.get(key);
    return bytes === undefined ? undefined : { size: bytes.length };
  }

  async delete(key: string): Promise<void> {
    assertObjectKey(key);
    this.objects.delete(key);
  }

  async *list(prefix: string): AsyncIterable<string> {
    for (const key of [...this.objects.keys()]) {
      if (key.startsWith(prefix)) yield key;
    }
  }

  async check(): Promise<void> {}

  async close(): Promise<void> {}

  private objectOf(key: string): Buffer {
    assertObjectKey(key);
    const bytes = this.objects.get(key);
    if (bytes === undefined) throw fail('E_OBJECT_NOT_FOUND', `object ${key} not found in memory://`, { key });
    return bytes;
  }
}
