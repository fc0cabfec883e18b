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
 * One file per (server, repo, branch) under `<cache dir>/put-index/`: a binary log (a re-put of
 * 100k unchanged files must load it in a few tens of ms, and parsing text was a tenth of a second).
 * After the magic line come records, little-endian:
 *   entry  1, u16 n, dest (n bytes UTF-8), f64 size, mtimeMs, ctimeMs, ino, dev,
 *          u8 m, chunker (m bytes), hash (32 bytes), u32 k, k x (chunk hash (32 bytes), f64 size)
 *          (k = 0: no chunks if the file is empty, else one chunk, the file itself)
 *   forget 2, u16 n, dest
 *   head   3, u8 n, commit id (n bytes; 0: none)
 * Entries take effect at the next head record, so a save cut short by a crash adds nothing. A
 * put that changed few files appends its entries and the new head (O(changes), not O(files)); a
 * put that cannot keep the old entries, or a log grown to twice its live entries, rewrites it
 * (temp + rename). It is only a cache: content it cannot parse is ignored.
 */
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { blake3Hex } from '../../src/hash/blake3.js';
import type { ChunkHash } from '../../src/types.js';
import type { Manifest } from '../api-types.js';
import { defaultCacheDir } from './cache.js';

const MAGIC = Buffer.from('datactl-put-index 3\n');
const ENTRY = 1;
const FORGET = 2;
const HEAD = 3;
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
    private readonly entries: Map<string, number>,
    /** Records in the log (entries, forgets, heads): when far above entries.size, rewrite. */
    private readonly logLength: number,
    /** The log ends with a head record: appending is safe (no orphaned entries to adopt). */
    private readonly appendable = false,
  ) {}

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
    if (log.length < MAGIC.length || !log.subarray(0, MAGIC.length).equals(MAGIC)) return PutIndex.empty(file);
    const entries = new Map<string, number>();
    let head: string | null = null;
    // Entries (offset) and forgets (-1) since the last head record, applied when one comes.
    const pendingDests: string[] = [];
    const pendingAt: number[] = [];
    let logLength = 0;
    let at = MAGIC.length;
    for (;;) {
      const end = recordEnd(log, at);
      if (end < 0) break; // the end, or a torn or unknown record: nothing after it counts
      const type = log[at];
      if (type === HEAD) {
        for (let i = 0; i < pendingDests.length; i++) {
          if (pendingAt[i]! < 0) entries.delete(pendingDests[i]!);
          else entries.set(pendingDests[i]!, pendingAt[i]!);
        }
        pendingDests.length = 0;
        pendingAt.length = 0;
        head = log[at + 1] === 0 ? null : log.toString('latin1', at + 2, end);
      } else {
        pendingDests.push(log.toString('utf8', at + 3, at + 3 + log.readUInt16LE(at + 1)));
        pendingAt.push(type === ENTRY ? at : -1);
      }
      logLength++;
      at = end;
    }
    return new PutIndex(file, head, log, entries, logLength, at === log.length && pendingDests.length === 0);
  }

  static empty(file: string): PutIndex {
    return new PutIndex(file, null, Buffer.alloc(0), new Map(), 0);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether `dest` was recorded with this very fingerprint (`fp[at]`...) and chunker: the file is unchanged. */
  matches(dest: string, fp: Float64Array, at: number, chunker: string): boolean {
    const record = this.entries.get(dest);
    return record !== undefined && this.sameFingerprint(record, fp, at, chunker);
  }

  /** The manifest recorded for `dest` if the local file still has the recorded fingerprint. */
  lookup(dest: string, fp: Float64Array, at: number, chunker: string): Manifest | undefined {
    const record = this.entries.get(dest);
    if (record === undefined || !this.sameFingerprint(record, fp, at, chunker)) return undefined;
    const log = this.log;
    let o = record + 3 + log.readUInt16LE(record + 1) + FP_BYTES;
    o += 1 + log[o]!;
    const hash = log.toString('hex', o, o + 32);
    const count = log.readUInt32LE(o + 32);
    const size = fp[at]!;
    const chunks: Array<[ChunkHash, number]> = count === 0 ? (size === 0 ? [] : [[hash as ChunkHash, size]]) : [];
    for (let k = 0, c = o + 36; k < count; k++, c += 40) chunks.push([log.toString('hex', c, c + 32) as ChunkHash, log.readDoubleLE(c + 32)]);
    return { size, hash, chunker, chunks };
  }

  private sameFingerprint(record: number, fp: Float64Array, at: number, chunker: string): boolean {
    const log = this.log;
    let o = record + 3 + log.readUInt16LE(record + 1);
    for (let k = 0; k < FP_FIELDS; k++, o += 8) if (log.readDoubleLE(o) !== fp[at + k]) return false;
    const n = log[o]!;
    if (n !== chunker.length) return false;
    for (let k = 0; k < n; k++) if (log[o + 1 + k] !== chunker.charCodeAt(k)) return false;
    return true;
  }

  /**
   * Write the index for `head`: `recorded` (this put's files) over the old entries when `keepOld`
   * (the new head descends directly from the one they were recorded at), else `recorded` alone.
   */
  async save(head: string | null, recorded: Iterable<IndexedFile>, scanStartedMs: number, keepOld: boolean): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const out = new RecordWriter();
    const replaced = new Set<string>();
    for (const f of recorded) {
      const old = keepOld ? this.entries.get(f.dest) : undefined;
      if (f.fp[f.at + 1]! >= scanStartedMs - RACY_MS) {
        // Racily clean: read again next time.
        if (old !== undefined) {
          out.forget(f.dest);
          replaced.add(f.dest);
        }
        continue;
      }
      const start = out.length;
      out.entry(f);
      if (old !== undefined && out.sameAs(start, this.log, old, recordEnd(this.log, old))) out.truncate(start);
      else if (keepOld) replaced.add(f.dest);
    }
    out.head(head);
    if (keepOld && this.appendable && this.logLength + out.records <= 2 * (this.entries.size + out.records)) {
      await appendFile(this.file, out.bytes());
      return;
    }
    // A fresh index, or one compacted: the old entries this put did not replace, then this put's.
    const kept = new RecordWriter();
    if (keepOld) for (const [dest, at] of this.entries) if (!replaced.has(dest)) kept.copy(this.log, at, recordEnd(this.log, at));
    await this.rewrite([MAGIC, kept.bytes(), out.bytes()]);
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
  if (!log.subarray(0, MAGIC.length).equals(MAGIC)) return [];
  const out: IndexRecord[] = [];
  for (let at = MAGIC.length, end = recordEnd(log, at); end >= 0; at = end, end = recordEnd(log, at)) {
    if (log[at] === HEAD) {
      out.push({ type: 'head', commit: log[at + 1] === 0 ? null : log.toString('latin1', at + 2, end) });
      continue;
    }
    const n = log.readUInt16LE(at + 1);
    const dest = log.toString('utf8', at + 3, at + 3 + n);
    if (log[at] === FORGET) {
      out.push({ type: 'forget', dest });
      continue;
    }
    let o = at + 3 + n;
    const [size, mtimeMs, ctimeMs, ino, dev] = [0, 1, 2, 3, 4].map((k) => log.readDoubleLE(o + 8 * k)) as [number, number, number, number, number];
    o += FP_BYTES;
    const chunker = log.toString('latin1', o + 1, o + 1 + log[o]!);
    o += 1 + log[o]!;
    out.push({ type: 'entry', dest, fingerprint: { size, mtimeMs, ctimeMs, ino, dev }, chunker, hash: log.toString('hex', o, o + 32), chunks: log.readUInt32LE(o + 32) });
  }
  return out;
}

/** One entry record as save writes it (for tests that forge a log). */
export function encodeIndexEntry(file: IndexedFile): Buffer {
  const w = new RecordWriter();
  w.entry(file);
  return Buffer.from(w.bytes());
}
