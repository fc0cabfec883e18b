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
 * One file per (server, repo, branch) under `<cache dir>/put-index/`: a header line, then one
 * tab-separated line per path, sorted. It is only a cache: unreadable or foreign content is
 * ignored, and it is replaced atomically (temp + rename).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { blake3Hex } from '../../src/hash/blake3.js';
import type { ChunkHash } from '../../src/types.js';
import type { Manifest } from '../api-types.js';
import { defaultCacheDir } from './cache.js';

const MAGIC = 'datactl-put-index 1';
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
  ) {}

  static pathFor(server: string, repo: string, branch: string, env: NodeJS.ProcessEnv = process.env): string {
    const key = blake3Hex(`${server}\n${repo}\n${branch}`).slice(0, 32);
    return join(defaultCacheDir(env), 'put-index', `${key}.tsv`);
  }

  static async load(file: string): Promise<PutIndex> {
    const text = await readFile(file, 'utf8').catch(() => '');
    const lines = new Map<string, string>();
    const firstEnd = text.indexOf('\n');
    const header = (firstEnd < 0 ? '' : text.slice(0, firstEnd)).split('\t');
    if (header[0] !== MAGIC || header.length !== 2) return new PutIndex(file, null, lines);
    for (let at = firstEnd + 1; at < text.length; ) {
      let end = text.indexOf('\n', at);
      if (end < 0) end = text.length;
      const tab = text.indexOf('\t', at);
      if (tab > at && tab < end) lines.set(text.slice(at, tab), text.slice(tab + 1, end));
      at = end + 1;
    }
    return new PutIndex(file, header[1] === '-' ? null : header[1]!, lines);
  }

  static empty(file: string): PutIndex {
    return new PutIndex(file, null, new Map());
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
    const lines = keepOld ? new Map(this.lines) : new Map<string, string>();
    for (const [dest, { fingerprint, manifest }] of recorded) {
      if (fingerprint.mtimeMs >= scanStartedMs - RACY_MS || /[\n\r]/.test(fingerprint.local)) {
        lines.delete(dest); // racily clean (or unrecordable): read again next time
        continue;
      }
      lines.set(dest, `${fingerprintText(fingerprint)}\t${manifest.chunker}\t${manifest.hash}\t${encodeChunks(manifest)}`);
    }
    const dests = [...lines.keys()].sort();
    const body = [`${MAGIC}\t${head ?? '-'}`];
    for (const dest of dests) body.push(`${dest}\t${lines.get(dest)!}`);
    await mkdir(join(this.file, '..'), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${body.join('\n')}\n`);
    await rename(tmp, this.file);
  }
}

/** Local paths may contain tabs or newlines in theory; such files are simply never matched. */
function fingerprintText(fp: Fingerprint): string {
  return `${fp.local}\t${fp.size}\t${fp.mtimeMs}\t${fp.ctimeMs}\t${fp.ino}\t${fp.dev}`;
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
