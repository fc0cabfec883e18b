/**
 * What the last put from this machine sent to a branch, so the next one need not read files that
 * have not changed: like git's index, an entry maps a repo path to the local file's stat
 * fingerprint (size, mtime, ctime, inode, device) and the manifest it had, together with the
 * branch head that put produced. A put then:
 * - skips a file whose fingerprint matches when the branch is still at that head (nothing to send);
 * - reuses the manifest (no read, no upload) but still sends the change when the head moved;
 * - reads everything else.
 * Racy-clean files (modified within RACY_MS of the scan that recorded them) are never recorded, so
 * an edit in the same timestamp tick as a put cannot hide behind an unchanged fingerprint.
 *
 * One file per (server, repo, branch) under `<cache dir>/put-index/`, binary, little-endian, made
 * so that a re-put of 100k unchanged files does no work per entry to load it (building a table
 * of 100k paths was most of a 0.1 s load): a base written whole, with a saved hash table of its
 * entries (path-table.ts), then a log of what later puts appended.
 *   header   the magic line, u32 table offset (4-aligned), u32 table slots, u32 base entries
 *   base     a head record, then entry records
 *   table    the slots (Int32, host byte order) of a PathTable over the file's bytes
 *   log      records appended by later puts: entries, forgets and heads
 * Records:
 *   entry  1, u16 n, dest (n bytes UTF-8), f64 size, mtimeMs, ctimeMs, ino, dev,
 *          u8 m, chunker (m bytes), hash (32 bytes), u32 k, k x (chunk hash (32 bytes), f64 size)
 *          (k = 0: no chunks if the file is empty, else one chunk, the file itself)
 *   forget 2, u16 n, dest
 *   head   3, u8 n, commit id (n bytes; 0: none)
 * Logged entries take effect at the next head record, so a save cut short by a crash adds
 * nothing. A put that changed few files appends its entries and the new head (O(changes), not
 * O(files)); a put that cannot keep the old entries, or a log grown past its live entries or
 * long next to the base, rewrites the file (temp + rename). It is only a cache: content it
 * cannot parse is ignored, and a table slot pointing anywhere but at a record of that very path
 * finds nothing.
 */
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { blake3Hex } from '../../src/hash/blake3.js';
import type { ChunkHash } from '../../src/types.js';
import type { Manifest } from '../api-types.js';
import { defaultCacheDir } from './cache.js';
import { PathTable } from './path-table.js';

const MAGIC = Buffer.from('datactl-put-index 3\n');
/** Where the base's head record starts: after the magic line and three u32. */
const BASE = MAGIC.length + 12;
const ENTRY = 1;
const FORGET = 2;
const HEAD = 3;
/** Log records always appended rather than rewriting the file (see save). */
const LOG_RECORDS_MIN = 4096;
/** Wider than any file system's timestamp granularity (FAT: 2 s). */
export const RACY_MS = 2000;
/** Numbers per file in a fingerprint array: size, mtimeMs, ctimeMs, ino, dev. */
export const FP_FIELDS = 5;
const FP_BYTES = FP_FIELDS * 8;

export interface Fingerprint {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
}

/** What save records for one file: its fingerprint (FP_FIELDS numbers at `fp[at]`) and manifest. */
export interface IndexedFile {
  dest: string;
  fp: Float64Array;
  at: number;
  manifest: Manifest;
}

export class PutIndex {
  private constructor(
    readonly file: string,
    /** The branch head the recorded state is at (null: unknown, entries still give manifests). */
    readonly head: string | null,
    /** The log as read. */
    private readonly log: Buffer,
    /** dest path -> offset in `log` of its live entry record. */
    private readonly entries: PathTable,
    /** Records in the log (entries, forgets, heads): when far above entries.size, rewrite. */
    private readonly logLength: number,
    /** The log ends with a head record: appending is safe (no orphaned entries to adopt). */
    private readonly appendable = false,
    /** Where the base's entries end. */
    private readonly baseEnd = 0,
    /** Base entries that the log replaced or forgot. */
    private readonly stale = new Set<number>(),
    /** Entries in the base (the rest of logLength is replayed by every load). */
    private readonly baseEntries = 0,
  ) {
    this.view = new DataView(log.buffer, log.byteOffset, log.byteLength);
  }

  /** The record after the one find last returned: the likely next answer, as puts list files in the order they were recorded. */
  private next = -1;
  /** The log's bytes for reading numbers: DataView reads are builtins, where Buffer.readDoubleLE is JS (see sameFingerprint). */
  private readonly view: DataView;
  /** The chunker id matches compare against, as bytes and as little-endian u32 words. */
  private chunker: { id: string; bytes: Buffer; words: Uint32Array } | undefined;

  static pathFor(server: string, repo: string, branch: string, env: NodeJS.ProcessEnv = process.env): string {
    const key = blake3Hex(`${server}\n${repo}\n${branch}`).slice(0, 32);
    return join(defaultCacheDir(env), 'put-index', `${key}.bin`);
  }

  /** Read synchronously: it is one read of a few MB, and the workers are scanning meanwhile. */
  static load(file: string): PutIndex {
    let log: Buffer;
    try {
      log = readFileSync(file);
    } catch {
      return PutIndex.empty(file);
    }
    if (log.length < BASE || !log.subarray(0, MAGIC.length).equals(MAGIC)) return PutIndex.empty(file);
    const tableAt = log.readUInt32LE(MAGIC.length);
    const slots = log.readUInt32LE(MAGIC.length + 4);
    const baseEntries = log.readUInt32LE(MAGIC.length + 8);
    const logAt = tableAt + 4 * slots;
    const baseHeadEnd = recordEnd(log, BASE);
    const valid = tableAt % 4 === 0 && logAt <= log.length && slots >= 16 && (slots & (slots - 1)) === 0 && baseEntries * 2 <= slots;
    if (!valid || baseHeadEnd < 0 || baseHeadEnd > tableAt || log[BASE] !== HEAD) return PutIndex.empty(file);
    let head = headOf(log, BASE, baseHeadEnd);
    // The saved slots, copied (2 MB for 100k entries: a millisecond) so the log can be applied.
    // Not checked here (that was most of the load): find checks each entry it returns.
    const saved = new Int32Array(slots);
    new Uint8Array(saved.buffer).set(log.subarray(tableAt, logAt));
    let entries = PathTable.restore(log, saved, baseEntries);

    // The log: entry and forget records since the last head record apply when one comes.
    const pending: number[] = [];
    const stale = new Set<number>();
    let logLength = baseEntries + 1;
    let at = logAt;
    for (;;) {
      const end = recordEnd(log, at);
      if (end < 0) break; // the end, or a torn or unknown record: nothing after it counts
      if (log[at] === HEAD) {
        if (!entries.hasRoom(pending.length)) entries = PathTable.copy(entries, entries.size + pending.length);
        for (const record of pending) {
          const old = log[record] === ENTRY ? entries.set(record) : entries.delete(record);
          if (old >= 0 && old < tableAt) stale.add(old);
        }
        pending.length = 0;
        head = headOf(log, at, end);
      } else {
        pending.push(at);
      }
      logLength++;
      at = end;
    }
    return new PutIndex(file, head, log, entries, logLength, at === log.length && pending.length === 0, tableAt, stale, baseEntries);
  }

  static empty(file: string): PutIndex {
    const log = Buffer.alloc(0);
    return new PutIndex(file, null, log, PathTable.create(log, 0), 0);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The entry for the repo path `prefix + text.slice(start, end)` (split so that a caller holding
   * many paths in one string need not build each), or -1.
   */
  find(prefix: string, text: string, start: number, end: number): number {
    const guess = this.next;
    const entry =
      guess > 0 && guess < this.baseEnd && this.log[guess] === ENTRY && !this.stale.has(guess) && this.entries.holds(guess, prefix, text, start, end)
        ? guess
        : this.entries.getJoined(prefix, text, start, end);
    if (entry < 0) return -1;
    // A damaged table could point anywhere: only a whole entry record counts.
    this.next = recordEnd(this.log, entry);
    return this.log[entry] === ENTRY && this.next > 0 ? entry : -1;
  }

  /** Whether `entry` (from find) was recorded with this very fingerprint (`fp[at]`...) and chunker: the file is unchanged. */
  matches(entry: number, fp: Float64Array, at: number, chunker: string): boolean {
    return entry >= 0 && this.sameFingerprint(entry, fp, at, chunker);
  }

  /** The manifest `entry` (from find) recorded, if the local file still has the recorded fingerprint. */
  lookup(entry: number, fp: Float64Array, at: number, chunker: string): Manifest | undefined {
    if (!this.matches(entry, fp, at, chunker)) return undefined;
    const log = this.log;
    let o = entry + 3 + log.readUInt16LE(entry + 1) + FP_BYTES;
    o += 1 + log[o]!;
    const hash = log.toString('hex', o, o + 32);
    const count = log.readUInt32LE(o + 32);
    const size = fp[at]!;
    const chunks: Array<[ChunkHash, number]> = count === 0 ? (size === 0 ? [] : [[hash as ChunkHash, size]]) : [];
    let total = 0;
    for (let k = 0, c = o + 36; k < count; k++, c += 40) {
      const chunkSize = log.readDoubleLE(c + 32);
      // Damaged bytes in a chunk record (the fingerprint and hash may still look fine) would make
      // a commit the server refuses at every put until the cache is cleared; reading the file
      // again costs one read instead.
      if (!(Number.isSafeInteger(chunkSize) && chunkSize > 0)) return undefined;
      total += chunkSize;
      chunks.push([log.toString('hex', c, c + 32) as ChunkHash, chunkSize]);
    }
    if (count > 0 && total !== size) return undefined;
    return { size, hash, chunker, chunks };
  }

  /**
   * A re-put runs this once per file, 100k times in one pass that mostly runs before V8 optimizes
   * it, so it does few, cheap operations: DataView reads and the chunker id compared four bytes at
   * a time. With Buffer.readDoubleLE and a char loop, 100k entries in one cold pass took a median
   * of 37 ms (27-66); this, 23 (16-33), eight alternating runs.
   */
  private sameFingerprint(record: number, fp: Float64Array, at: number, chunker: string): boolean {
    const log = this.log;
    const view = this.view;
    let o = record + 3 + (log[record + 1]! | (log[record + 2]! << 8));
    for (let k = 0; k < FP_FIELDS; k++, o += 8) if (view.getFloat64(o, true) !== fp[at + k]) return false;
    const id = this.chunkerBytes(chunker);
    if (log[o] !== id.bytes.length) return false;
    o += 1;
    let k = 0;
    for (let w = 0; w < id.words.length; w++, k += 4) if (view.getUint32(o + k, true) !== id.words[w]) return false;
    for (; k < id.bytes.length; k++) if (log[o + k] !== id.bytes[k]) return false;
    return true;
  }

  private chunkerBytes(chunker: string): { id: string; bytes: Buffer; words: Uint32Array } {
    if (this.chunker?.id === chunker) return this.chunker;
    const bytes = Buffer.from(chunker, 'latin1');
    const words = new Uint32Array(bytes.length >> 2);
    for (let w = 0; w < words.length; w++) words[w] = bytes.readUInt32LE(4 * w);
    this.chunker = { id: chunker, bytes, words };
    return this.chunker;
  }

  /**
   * Write the index for `head`: `recorded` (this put's files) over the old entries when `keepOld`
   * (the new head descends directly from the one they were recorded at), else `recorded` alone.
   */
  async save(head: string | null, recorded: Iterable<IndexedFile>, scanStartedMs: number, keepOld: boolean): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const out = new RecordWriter();
    // Without the old entries, this put's are the new base: written in place (100k entries: 15 MB).
    if (!keepOld) {
      out.skip(BASE);
      out.head(head);
    }
    // Old entries this put recorded anew or forgot, by record offset.
    const replaced = new Set<number>();
    for (const f of recorded) {
      const old = keepOld ? this.entries.get(f.dest) : -1;
      if (f.fp[f.at + 1]! >= scanStartedMs - RACY_MS) {
        // Racily clean: read again next time.
        if (old >= 0) {
          out.forget(f.dest);
          replaced.add(old);
        }
        continue;
      }
      const start = out.length;
      out.entry(f);
      if (old < 0) continue;
      if (out.sameAs(start, this.log, old, recordEnd(this.log, old))) out.truncate(start);
      else replaced.add(old);
    }
    // Appended while the log stays short next to the base: a load replays each logged record
    // (~1.5 us) where base entries cost it nothing, and 100k appended made every later put,
    // even of one file, ~0.1 s slower.
    const logged = this.logLength - this.baseEntries - 1 + out.records;
    const short = logged <= Math.max(LOG_RECORDS_MIN, this.baseEntries / 8);
    if (keepOld && this.appendable && short && this.logLength + out.records <= 2 * (this.entries.size + out.records)) {
      out.head(head);
      await appendFile(this.file, out.bytes());
      return;
    }
    let base = out;
    if (keepOld) {
      // Compact: the old entries this put did not replace, in file order (the order files were
      // listed in, which find's guess counts on), then this put's.
      base = new RecordWriter();
      base.skip(BASE);
      base.head(head);
      for (const at of Int32Array.from(this.entries.records()).sort()) {
        const end = recordEnd(this.log, at);
        if (end > 0 && this.log[at] === ENTRY && !replaced.has(at)) base.copy(this.log, at, end);
      }
      const fresh = out.bytes();
      for (let at = 0, end = recordEnd(fresh, at); end >= 0; at = end, end = recordEnd(fresh, at)) if (fresh[at] === ENTRY) base.copy(fresh, at, end);
    }
    base.align(4);
    const tableAt = base.length;
    const bytes = base.bytes();
    const table = PathTable.create(bytes, 2 * (base.records - 1)); // a quarter full: room for appends
    for (let at = recordEnd(bytes, BASE), end = recordEnd(bytes, at); end >= 0; at = end, end = recordEnd(bytes, at)) table.set(at);
    bytes.write(MAGIC.toString('latin1'), 0, 'latin1');
    bytes.writeUInt32LE(tableAt, MAGIC.length);
    bytes.writeUInt32LE(table.slots.length, MAGIC.length + 4);
    bytes.writeUInt32LE(table.size, MAGIC.length + 8);
    await this.rewrite([bytes, Buffer.from(table.slots.buffer, table.slots.byteOffset, table.slots.byteLength)]);
  }

  /** Write the file anew: temp + rename, so a reader never sees half of it. */
  private async rewrite(pieces: Buffer[]): Promise<void> {
    const tmp = `${this.file}.${process.pid}.tmp`;
    const out = await open(tmp, 'w');
    try {
      for (const piece of pieces) await out.write(piece);
    } finally {
      await out.close();
    }
    await rename(tmp, this.file);
  }
}

function headOf(log: Buffer, at: number, end: number): string | null {
  return log[at + 1] === 0 ? null : log.toString('latin1', at + 2, end);
}

/** The offset just past the record at `at`, or -1 at the end or on a torn or unknown record. */
function recordEnd(log: Buffer, at: number): number {
  if (at + 2 > log.length) return -1;
  const type = log[at];
  let end: number;
  if (type === HEAD) end = at + 2 + log[at + 1]!;
  else if (at + 3 > log.length) return -1;
  else if (type === FORGET) end = at + 3 + log.readUInt16LE(at + 1);
  else if (type === ENTRY) {
    let o = at + 3 + log.readUInt16LE(at + 1) + FP_BYTES;
    if (o + 1 > log.length) return -1;
    o += 1 + log[o]! + 32;
    if (o + 4 > log.length) return -1;
    end = o + 4 + 40 * log.readUInt32LE(o);
  } else return -1;
  return end <= log.length ? end : -1;
}

/** Records appended to a growing buffer (this put's entries are written once, not per file). */
class RecordWriter {
  private buf = Buffer.allocUnsafe(1 << 16);
  length = 0;
  records = 0;

  entry(f: IndexedFile): void {
    const { manifest } = f;
    const multi = !(manifest.chunks.length === 0 || (manifest.chunks.length === 1 && manifest.chunks[0]![0] === manifest.hash));
    const chunks = multi ? manifest.chunks.length : 0;
    this.reserve(3 + Buffer.byteLength(f.dest) + FP_BYTES + 1 + manifest.chunker.length + 36 + 40 * chunks);
    const b = this.buf;
    let o = this.start(ENTRY, f.dest);
    for (let k = 0; k < FP_FIELDS; k++, o += 8) b.writeDoubleLE(f.fp[f.at + k]!, o);
    b[o] = b.write(manifest.chunker, o + 1, 'latin1');
    o += 1 + b[o]!;
    o += b.write(manifest.hash, o, 32, 'hex');
    o = b.writeUInt32LE(chunks, o);
    if (multi) {
      for (const [hash, size] of manifest.chunks) {
        o += b.write(hash, o, 32, 'hex');
        o = b.writeDoubleLE(size, o);
      }
    }
    this.length = o;
  }

  forget(dest: string): void {
    this.reserve(3 + Buffer.byteLength(dest));
    this.length = this.start(FORGET, dest);
  }

  head(commit: string | null): void {
    const id = commit ?? '';
    this.reserve(2 + id.length);
    this.buf[this.length] = HEAD;
    this.buf[this.length + 1] = id.length;
    this.length += 2 + this.buf.write(id, this.length + 2, 'latin1');
    this.records++;
  }

  copy(from: Buffer, start: number, end: number): void {
    this.reserve(end - start);
    this.length += from.copy(this.buf, this.length, start, end);
    this.records++;
  }

  /** Whether the record written at `start` is byte for byte `from[at..end)`. */
  sameAs(start: number, from: Buffer, at: number, end: number): boolean {
    return end - at === this.length - start && this.buf.compare(from, at, end, start, this.length) === 0;
  }

  truncate(start: number): void {
    this.length = start;
    this.records--;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** Leave `n` zero bytes (a header written later). */
  skip(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }

  align(to: number): void {
    this.skip((to - (this.length % to)) % to);
  }

  private start(type: number, dest: string): number {
    const b = this.buf;
    b[this.length] = type;
    const n = b.write(dest, this.length + 3, 'utf8');
    b.writeUInt16LE(n, this.length + 1);
    this.records++;
    return this.length + 3 + n;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + bytes));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }
}

export type IndexRecord =
  | { type: 'entry'; dest: string; fingerprint: Fingerprint; chunker: string; hash: string; chunks: number }
  | { type: 'forget'; dest: string }
  | { type: 'head'; commit: string | null };

/** The records of an index log, decoded, up to the first torn or unknown one (for inspection). */
export function readIndexRecords(log: Buffer): IndexRecord[] {
  if (log.length < BASE || !log.subarray(0, MAGIC.length).equals(MAGIC)) return [];
  const tableAt = log.readUInt32LE(MAGIC.length);
  const logAt = tableAt + 4 * log.readUInt32LE(MAGIC.length + 4);
  return [...decodeRecords(log.subarray(0, tableAt), BASE), ...decodeRecords(log, logAt)];
}

function* decodeRecords(log: Buffer, from: number): Generator<IndexRecord> {
  for (let at = from, end = recordEnd(log, at); end >= 0; at = end, end = recordEnd(log, at)) {
    if (log[at] === HEAD) {
      yield { type: 'head', commit: headOf(log, at, end) };
      continue;
    }
    const n = log.readUInt16LE(at + 1);
    const dest = log.toString('utf8', at + 3, at + 3 + n);
    if (log[at] === FORGET) {
      yield { type: 'forget', dest };
      continue;
    }
    let o = at + 3 + n;
    const [size, mtimeMs, ctimeMs, ino, dev] = [0, 1, 2, 3, 4].map((k) => log.readDoubleLE(o + 8 * k)) as [number, number, number, number, number];
    o += FP_BYTES;
    const chunker = log.toString('latin1', o + 1, o + 1 + log[o]!);
    o += 1 + log[o]!;
    yield { type: 'entry', dest, fingerprint: { size, mtimeMs, ctimeMs, ino, dev }, chunker, hash: log.toString('hex', o, o + 32), chunks: log.readUInt32LE(o + 32) };
  }
}

/** One entry record as save writes it (for tests that forge a log). */
export function encodeIndexEntry(file: IndexedFile): Buffer {
  const w = new RecordWriter();
  w.entry(file);
  return Buffer.from(w.bytes());
}
