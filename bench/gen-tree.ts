/**
 * Workloads (c) and (d): many small files (1-4 KB JSON records) spread over directories, and the
 * same tree with one file changed. (d) is stored as just the changed file's new bytes (plus a
 * third version for the "changed file only" variant); the runner swaps it into a hard-linked
 * copy of (c), so the other files keep their inodes and timestamps, as they would on a real disk
 * where one file was edited. Tools that skip unchanged files by stat data (restic, borg, git)
 * are thereby measured doing what they are built to do.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Prng } from './prng.js';

export interface TreeSpec {
  seed: number;
  files: number;
  dirs: number;
}

export interface TreeMeta {
  files: number;
  dirs: number;
  bytes: number;
  /** Relative path (inside the tree) of the file (d) changes. */
  changed: string;
  /** Size of the changed file in (c), (d) and the third version. */
  changedSizes: [number, number, number];
}

const WRITE_CONCURRENCY = 32;
const WORDS = 'sensor reading ok warn error retry backoff queue worker batch shard replica leader follower commit abort flush sync merge split index cache miss hit evict region zone rack host pod node job task step'.split(' ');

/** Relative path of file `i`: `d042/f0042123.json`; files are dealt round-robin so dirs stay even. */
export function treePath(i: number, dirs: number): string {
  return `d${String(i % dirs).padStart(3, '0')}/f${String(i).padStart(7, '0')}.json`;
}

/** One small JSON record of 1024-4096 bytes, a pure function of (seed, i). */
export function treeFile(seed: number, i: number): Buffer {
  const rng = new Prng((seed * 1_000_003 + i) >>> 0);
  const size = rng.range(1024, 4096);
  const head = `{"id":${i},"ts":"${new Date(Date.UTC(2024, 0, 1) + i * 1000 + rng.int(1000)).toISOString()}","host":"h${rng.hex(6)}",` +
    `"value":${(rng.float() * 1000).toFixed(4)},"ok":${rng.int(10) > 0},"log":"`;
  const words: string[] = [];
  let length = head.length + 3; // the closing `"}` and newline
  while (length < size) {
    const w = rng.pick(WORDS);
    words.push(w);
    length += w.length + 1;
  }
  return Buffer.from(`${head}${words.join(' ')}"}\n`.slice(0, size - 3) + '"}\n');
}

/** Write every file of the tree under `root`, a few at a time. */
export async function generateTree(spec: TreeSpec, root: string): Promise<TreeMeta> {
  for (let d = 0; d < spec.dirs; d++) await mkdir(join(root, `d${String(d).padStart(3, '0')}`), { recursive: true });
  let bytes = 0;
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < spec.files; i = next++) {
      const data = treeFile(spec.seed, i);
      bytes += data.length;
      await writeFile(join(root, treePath(i, spec.dirs)), data);
    }
  };
  await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, worker));
  const changedIndex = Math.floor(spec.files / 2);
  const sizes = [1, 2, 3].map((v) => treeFile(changedSeed(spec.seed, v), changedIndex).length) as [number, number, number];
  return { files: spec.files, dirs: spec.dirs, bytes, changed: treePath(changedIndex, spec.dirs), changedSizes: sizes };
}

/** Version 1 is the original file; versions 2 and 3 are edits drawn from other seeds. */
export function changedSeed(seed: number, version: number): number {
  return version === 1 ? seed : (seed ^ (0x51de << version)) >>> 0;
}

/** Write version `version` (2 or 3) of the changed file to `path`. */
export async function writeChangedFile(spec: TreeSpec, version: number, path: string): Promise<number> {
  const data = treeFile(changedSeed(spec.seed, version), Math.floor(spec.files / 2));
  await writeFile(path, data);
  return data.length;
}
