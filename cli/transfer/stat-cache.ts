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
 * One file per (server, repo, branch) under `<cache dir>/put-index/`, a log: a magic line, then
 * `<dest>\t<fingerprint>\t<chunker>\t<hash>\t<chunks>` entry lines (`<dest>\t-` forgets one)
 * and `#head\t<commit>` lines. Entries take effect at the next head line, so a save cut short
 * by a crash adds nothing. A put that changed few files appends its entries and the new head
 * (O(changes), not O(files)); a put that cannot keep the old entries, or a log grown to twice its
 * live entries, rewrites it (temp + rename). It is only a cache: unreadable content is ignored.
 */
import { appendFile, mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { blake3Hex } from '../../src/hash/blake3.js';
import type { ChunkHash } from '../../src/types.js';
import type { Manifest } from '../api-types.js';
import { defaultCacheDir } from './cache.js';

const MAGIC = 'datactl-put-index 2';
const HEAD = '#head';
/** Wider than any file system's timestamp granularity (FAT: 2 s). */
export const RACY_MS = 2000;

export interface Fingerprint {
  local: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
}

export interface IndexedFile {
  fingerprint: Fingerprint;
  manifest: Manifest;
}

export class PutIndex {
  private constructor(
    readonly file: string,
    /** The branch head the recorded state is at (null: unknown, entries still give manifests). */
    readonly head: string | null,
    /** dest path -> the rest of its line, parsed only when a fingerprint matches. */
    private readonly lines: Map<string, string>,
    /** Lines in the file (entries, forgets, heads): when far above lines.size, rewrite. */
    private readonly logLength: number,
    /** The file ends with a head line: appending is safe (no orphaned entries to adopt). */
    private readonly appendable = false,
  ) {}

  static pathFor(server: string, repo: string, branch: string, env: NodeJS.ProcessEnv = process.env): string {
    const key = blake3Hex(`${server}\n${repo}\n${branch}`).slice(0, 32);
    return join(defaultCacheDir(env), 'put-index', `${key}.tsv`);
  }

  static async load(file: string): Promise<PutIndex> {
    const text = await readFile(file, 'utf8').catch(() => '');
    const lines = new Map<string, string>();
    const firstEnd = text.indexOf('\n');
    if (firstEnd < 0 || text.slice(0, firstEnd) !== MAGIC) return PutIndex.empty(file);
    let head: string | null = null;
    let pending: Array<[string, string]> = [];
    let logLength = 0;
    for (let at = firstEnd + 1; at < text.length; ) {
      const end = text.indexOf('\n', at);
      if (end < 0) {
        pending.push(['', '']); // a torn last line: never append after it
        break;
      }
      const tab = text.indexOf('\t', at);
      if (tab > at && tab < end) {
        const key = text.slice(at, tab);
        const rest = text.slice(tab + 1, end);
        if (key === HEAD) {
          for (const [dest, line] of pending) {
            if (line === '-') lines.delete(dest);
            else lines.set(dest, line);
          }
          pending = [];
          head = rest === '-' ? null : rest;
        } else {
          pending.push([key, rest]);
        }
        logLength++;
      }
      at = end + 1;
    }
    return new PutIndex(file, head, lines, logLength, pending.length === 0);
  }

  static empty(file: string): PutIndex {
    return new PutIndex(file, null, new Map(), 0);
  }

  get size(): number {
    return this.lines.size;
  }

  /** Whether `dest` was recorded with this very fingerprint (and chunker): the file is unchanged. */
  matches(dest: string, fp: Fingerprint, chunker: string): boolean {
    return this.lines.get(dest)?.startsWith(`${fingerprintText(fp)}\t${chunker}\t`) ?? false;
  }

  /** The manifest recorded for `dest` if the local file still has the recorded fingerprint. */
  lookup(dest: string, fp: Fingerprint, chunker: string): Manifest | undefined {
    const line = this.lines.get(dest);
    if (line === undefined) return undefined;
    const prefix = `${fingerprintText(fp)}\t${chunker}\t`;
    if (!line.startsWith(prefix)) return undefined;
    const [hash, chunkList] = line.slice(prefix.length).split('\t') as [ChunkHash, string];
    return { size: fp.size, hash, chunker, chunks: decodeChunks(chunkList, hash, fp.size) };
  }

  /**
   * Write the index for `head`: `recorded` (this put's files) over the old entries when `keepOld`
   * (the new head descends directly from the one they were recorded at), else `recorded` alone.
   */
  async save(head: string | null, recorded: Iterable<[string, IndexedFile]>, scanStartedMs: number, keepOld: boolean): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const headLine = `${HEAD}\t${head ?? '-'}`;
    const lines = function* (index: PutIndex): Generator<string> {
      for (const [dest, { fingerprint, manifest }] of recorded) {
        if (fingerprint.mtimeMs >= scanStartedMs - RACY_MS || /[\n\r]/.test(fingerprint.local)) {
          // Racily clean (or unrecordable): read again next time.
          if (keepOld && index.lines.has(dest)) yield `${dest}\t-`;
          continue;
        }
        const line = `${fingerprintText(fingerprint)}\t${manifest.chunker}\t${manifest.hash}\t${encodeChunks(manifest)}`;
        if (!keepOld || index.lines.get(dest) !== line) yield `${dest}\t${line}`;
      }
    };
    // A fresh index is written straight from `recorded` (100k entries never pile up in memory).
    if (!keepOld) return this.rewrite([lines(this), [headLine]]);
    const changed = [...lines(this), headLine];
    if (this.appendable && this.logLength + changed.length <= 2 * (this.lines.size + changed.length)) {
      await appendFile(this.file, `${changed.join('\n')}\n`);
      return;
    }
    // Compact: the old entries this put did not replace, then this put's.
    const replaced = new Set(changed.map((l) => l.slice(0, l.indexOf('\t'))));
    const kept = function* (index: PutIndex): Generator<string> {
      for (const [dest, line] of index.lines) if (!replaced.has(dest)) yield `${dest}\t${line}`;
    };
    await this.rewrite([kept(this), changed]);
  }

  /** Write the file anew (temp + rename) in ~1 MiB pieces, dropping forget lines. */
  private async rewrite(sources: Iterable<string>[]): Promise<void> {
    const tmp = `${this.file}.${process.pid}.tmp`;
    const out = await open(tmp, 'w');
    try {
      let piece = `${MAGIC}\n`;
      for (const source of sources) {
        for (const line of source) {
          if (!line.startsWith(HEAD) && line.endsWith('\t-')) continue;
          piece += `${line}\n`;
          if (piece.length >= 1 << 20) {
            await out.write(piece);
            piece = '';
          }
        }
      }
      await out.write(piece);
    } finally {
      await out.close();
    }
    await rename(tmp, this.file);
  }
}

/**
 * Times as integer microseconds: printing a fractional double costs several times more than an
 * integer, and this runs for every file of every put. (A change within the same microsecond as a
 * recorded mtime is covered by the racy-clean rule.) Local paths with newlines are never recorded.
 */
function fingerprintText(fp: Fingerprint): string {
  return `${fp.local}\t${fp.size}\t${Math.round(fp.mtimeMs * 1000)}\t${Math.round(fp.ctimeMs * 1000)}\t${fp.ino}\t${fp.dev}`;
}

/** '' for an empty file or one chunk equal to the whole file (the common small-file case). */
function encodeChunks(m: Manifest): string {
  if (m.chunks.length === 0) return '';
  if (m.chunks.length === 1 && m.chunks[0]![0] === m.hash) return '';
  return m.chunks.map(([h, s]) => `${h}:${s}`).join(',');
}

function decodeChunks(text: string | undefined, hash: ChunkHash, size: number): Array<[ChunkHash, number]> {
  if (!text) return size === 0 ? [] : [[hash, size]];
  return text.split(',').map((part) => {
    const [h, s] = part.split(':');
    return [h as ChunkHash, Number(s)];
  });
}
