/**
 * A hash table of the records of a buffer (the put index log, stat-cache.ts) keyed by the path
 * each record holds, looked up by a path given as a prefix string plus a range of a larger string
 * without building it. A re-put matches 100k paths: when it built a string per path and a Map of
 * 100k keys, that garbage cost more than the matching itself.
 *
 * A record at offset `r` holds its path as UTF-8 at `r + 3`, its byte length a u16 at `r + 1`.
 * Open addressing with linear probing over an Int32Array: 0 is empty, -1 deleted, else record + 1.
 * Hashing is FNV-1a over the path's UTF-8 bytes; an ASCII string hashes its char codes as they are,
 * anything else is encoded first (the slow path, for non-ASCII names).
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const EMPTY = 0;
const DELETED = -1;

export class PathTable {
  private readonly mask: number;

  private constructor(
    private readonly bytes: Buffer,
    /** A power of two in length, never more than half full. */
    readonly slots: Int32Array,
    public size: number,
  ) {
    this.mask = slots.length - 1;
  }

  /** An empty table over `bytes` with room for `capacity` records. */
  static create(bytes: Buffer, capacity: number): PathTable {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    return new PathTable(bytes, new Int32Array(n), 0);
  }

  /** The table whose slots were saved (`slots` of a table over the same bytes) with `size` records. */
  static restore(bytes: Buffer, slots: Int32Array, size: number): PathTable {
    return new PathTable(bytes, slots, size);
  }

  /** A larger table holding the same records, with room for `capacity`. */
  static copy(table: PathTable, capacity: number): PathTable {
    const bigger = PathTable.create(table.bytes, capacity);
    for (const record of table.records()) bigger.set(record);
    return bigger;
  }

  /** Whether `more` records can be set without passing half full. */
  hasRoom(more: number): boolean {
    return (this.size + more) * 2 <= this.slots.length;
  }

  /** Add the record at `record`; returns the one it replaced (same path), or -1. */
  set(record: number): number {
    const slot = this.find(this.bytes, record + 3, record + 3 + this.pathLength(record));
    if (slot < 0) return -1; // full: only a damaged saved table can be
    const old = this.slots[slot]! - 1;
    if (old < 0) this.size++;
    this.slots[slot] = record + 1;
    return old;
  }

  /** Remove the path that the record at `record` holds; returns the record removed, or -1. */
  delete(record: number): number {
    const slot = this.find(this.bytes, record + 3, record + 3 + this.pathLength(record));
    if (slot < 0 || this.slots[slot] === EMPTY) return -1;
    const old = this.slots[slot]! - 1;
    this.slots[slot] = DELETED;
    this.size--;
    return old;
  }

  /** Whether the record at `record` holds the path `prefix + text.slice(start, end)` (compared as ASCII: false otherwise). */
  holds(record: number, prefix: string, text: string, start: number, end: number): boolean {
    if (this.pathLength(record) !== prefix.length + end - start) return false;
    const b = this.bytes;
    const at = record + 3;
    // A char above 0x7f is no UTF-8 byte of it: "Ã©" must not match the bytes of "é".
    for (let i = 0; i < prefix.length; i++) {
      const c = prefix.charCodeAt(i);
      if (c > 0x7f || b[at + i] !== c) return false;
    }
    for (let i = start, j = at + prefix.length; i < end; i++, j++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f || b[j] !== c) return false;
    }
    return true;
  }

  /** The record holding `path`, or -1. */
  get(path: string): number {
    return this.getJoined('', path, 0, path.length);
  }

  /** The record holding the path `prefix + text.slice(start, end)`, or -1. The hot path: no allocation. */
  getJoined(prefix: string, text: string, start: number, end: number): number {
    let h = FNV_OFFSET;
    for (let i = 0; i < prefix.length; i++) {
      const c = prefix.charCodeAt(i);
      if (c > 0x7f) return this.getEncoded(prefix + text.slice(start, end));
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) return this.getEncoded(prefix + text.slice(start, end));
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    for (let slot = h & this.mask, n = 0; n <= this.mask; slot = (slot + 1) & this.mask, n++) {
      const v = this.slots[slot]!;
      if (v === EMPTY) return -1;
      if (v !== DELETED && this.holds(v - 1, prefix, text, start, end)) return v - 1;
    }
    return -1;
  }

  /** Every record in the table (in no particular order). */
  *records(): Generator<number> {
    for (const v of this.slots) if (v > 0) yield v - 1;
  }

  private getEncoded(path: string): number {
    const bytes = Buffer.from(path);
    const slot = this.find(bytes, 0, bytes.length);
    return slot >= 0 && this.slots[slot]! > 0 ? this.slots[slot]! - 1 : -1;
  }

  /**
   * The slot of the record whose path is `key[start..end)`, else the empty slot that ends the
   * probe, else (a full table) -1. Slots may point anywhere (a saved table is not trusted): reads
   * past the end of the bytes give undefined, which matches nothing.
   */
  private find(key: Buffer, start: number, end: number): number {
    let h = FNV_OFFSET;
    for (let i = start; i < end; i++) h = Math.imul(h ^ key[i]!, FNV_PRIME);
    const b = this.bytes;
    probing: for (let slot = h & this.mask, n = 0; n <= this.mask; slot = (slot + 1) & this.mask, n++) {
      const v = this.slots[slot]!;
      if (v === EMPTY) return slot;
      if (v === DELETED || this.pathLength(v - 1) !== end - start) continue;
      for (let i = start, j = v + 2; i < end; i++, j++) if (b[j] !== key[i]) continue probing;
      return slot;
    }
    return -1;
  }

  private pathLength(record: number): number {
    return this.bytes[record + 1]! | (this.bytes[record + 2]! << 8);
  }
}
