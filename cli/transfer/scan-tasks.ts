/**
 * Listing and stat-ing a put's local files, as plain synchronous functions for the file workers
 * (file-tasks.ts has why synchronous). Apart from file-tasks.ts, whose chunking and hashing a
 * worker loads only when it first reads a file: a re-put that finds nothing changed starts
 * scanning ~30 ms sooner on each worker.
 */
import { readdirSync, statSync } from 'node:fs';
import { isPlainName } from '../../src/types.js';

/** Per path in a stat result: kind, size, mtimeMs, ctimeMs, ino, dev. */
export const STAT_FIELDS = 6;
/** Kind codes in a stat result; 0 means vanished or a broken symlink. */
export const FileKind = { Missing: 0, File: 1, Directory: 2, Other: 3 } as const;

/** stat (following symlinks, as the put does) of every path, packed STAT_FIELDS numbers per path. */
export function statFiles(paths: readonly string[]): Float64Array {
  const out = new Float64Array(paths.length * STAT_FIELDS);
  for (let i = 0; i < paths.length; i++) {
    const s = statSync(paths[i]!, { throwIfNoEntry: false });
    const o = i * STAT_FIELDS;
    if (!s) continue; // kind 0: vanished or a broken symlink
    out[o] = s.isFile() ? FileKind.File : s.isDirectory() ? FileKind.Directory : FileKind.Other;
    out[o + 1] = s.size;
    out[o + 2] = s.mtimeMs;
    out[o + 3] = s.ctimeMs;
    out[o + 4] = s.ino;
    out[o + 5] = s.dev;
  }
  return out;
}

/** What scanTree found under a directory. */
export interface TreeScan {
  /** Paths relative to the directory, of the files and symlinks under it (depth first, sorted by name at every level), joined by NUL (which no name contains): one string crosses threads far cheaper than 50k. */
  paths: string;
  /** statFiles of those paths, in that order. */
  stats: Float64Array;
  /** Indexes (in `paths`) of paths with a name that is not isPlainName: they need a full parseRepoPath. */
  irregular: number[];
  /** Relative paths of entries that are neither files, directories nor symlinks (sockets, FIFOs, devices). */
  others: string[];
}

/**
 * List and stat everything under `dir`, recursively: the whole scan of a put's subtree in one
 * worker task. Symlinks are not followed into (their target's kind is in the stat).
 */
export function scanTree(dir: string): TreeScan {
  const paths: string[] = [];
  const irregular: number[] = [];
  const others: string[] = [];
  const walk = (local: string, rel: string, plain: boolean) => {
    const entries = readdirSync(local, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      const plainPath = plain && isPlainName(e.name);
      if (e.isDirectory()) walk(`${local}/${e.name}`, path, plainPath);
      else if (e.isFile() || e.isSymbolicLink()) {
        if (!plainPath) irregular.push(paths.length);
        paths.push(path);
      } else others.push(path);
    }
  };
  walk(dir, '', true);
  return { paths: paths.join('\0'), stats: statFiles(paths.map((p) => `${dir}/${p}`)), irregular, others };
}
