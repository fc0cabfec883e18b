/**
 * The workloads, their sizes, the generation cache and the staging of versions.
 *
 * Workloads come in scenarios that share a store: (a) then (b) is one CSV and its edit, (c) then
 * (d) one tree and its one-file change, (e) stands alone. A scenario's data is generated once per
 * (seed, size) into bench/work/data/<key>/ and reused; a `<scenario>.json` written last marks it
 * complete, so an interrupted generation is redone rather than trusted.
 *
 * Tools never read the cache directly: each session gets a stage directory holding hard links
 * to it (no copy, same disk), and moving to the next version swaps only the links that change.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { removeTree } from './cleanup.js';
import { generateCsv, type CsvMeta } from './gen-csv.js';
import { generateParquet, type ParquetMeta } from './gen-parquet.js';
import { generateTree, writeChangedFile, type TreeMeta } from './gen-tree.js';

const run = promisify(execFile);

export type WorkloadId = 'a' | 'b' | 'c' | 'd' | 'e';
export type ScenarioId = 'csv' | 'tree' | 'parquet';
export const WORKLOAD_IDS: readonly WorkloadId[] = ['a', 'b', 'c', 'd', 'e'];

export interface Sizes {
  csvBytes: number;
  files: number;
  dirs: number;
  parquetBytes: number;
}

/** Full sizes as the issue sets them; --quick is a smoke check; --size scales either. */
export function sizesFor(quick: boolean, scale: number): Sizes {
  const base = quick ? { csvBytes: 64e6, files: 5_000, parquetBytes: 64e6 } : { csvBytes: 1e9, files: 100_000, parquetBytes: 1e9 };
  const files = Math.max(10, Math.round(base.files * scale));
  return {
    csvBytes: Math.round(base.csvBytes * scale),
    files,
    dirs: Math.min(100, files),
    parquetBytes: Math.round(base.parquetBytes * scale),
  };
}

/** What one workload hands a tool, for throughput and dedup figures. */
export interface WorkloadInfo {
  id: WorkloadId;
  title: string;
  bytes: number;
  files: number;
  /** Bytes new in this version (the target "store added <= 1.5x edited bytes"). */
  editedBytes?: number;
}

/** One scenario, ready to stage: the versions it puts, in order. */
export interface Scenario {
  id: ScenarioId;
  kind: 'file' | 'tree';
  /** Name of the data inside a stage directory (`data.csv`, `tree`, ...). */
  name: string;
  versions: WorkloadInfo[];
  /** The cached files and trees the versions are staged from (read before each tool's session). */
  sources: readonly string[];
  /** Lay version `index` (0-based) out in `stageDir`; version 0 into an empty dir. */
  stage(stageDir: string, index: number): Promise<void>;
  /** Tree only: lay out a third version of the changed file (the "changed file only" variant). */
  stageExtra?(stageDir: string): Promise<string>;
}

export const SCENARIO_OF: Record<WorkloadId, ScenarioId> = { a: 'csv', b: 'csv', c: 'tree', d: 'tree', e: 'parquet' };

/** The cache key: seed and sizes, so a --size or --quick run never reuses the wrong data. */
export function cacheKey(seed: number, sizes: Sizes): string {
  return `seed${seed}-csv${sizes.csvBytes}-files${sizes.files}x${sizes.dirs}-pq${sizes.parquetBytes}`;
}

/** Read a cached scenario's meta when its spec matches; else undefined. */
async function cached<T>(metaPath: string, spec: unknown): Promise<T | undefined> {
  if (!existsSync(metaPath)) return undefined;
  const saved = JSON.parse(await readFile(metaPath, 'utf8')) as { spec: unknown; meta: T };
  return JSON.stringify(saved.spec) === JSON.stringify(spec) ? saved.meta : undefined;
}

async function ensure<T>(dir: string, id: ScenarioId, spec: unknown, log: (m: string) => void, make: () => Promise<T>): Promise<T> {
  const metaPath = join(dir, `${id}.json`);
  const hit = await cached<T>(metaPath, spec);
  if (hit) {
    log(`workload ${id}: cached in ${dir}`);
    return hit;
  }
  log(`workload ${id}: generating...`);
  const started = Date.now();
  const meta = await make();
  await writeFile(metaPath, JSON.stringify({ spec, meta }, null, 2));
  log(`workload ${id}: generated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return meta;
}

async function relink(source: string, target: string): Promise<void> {
  await unlink(target).catch(() => undefined);
  await link(source, target);
}

async function csvScenario(dir: string, seed: number, sizes: Sizes, log: (m: string) => void): Promise<Scenario> {
  const spec = { seed, bytes: sizes.csvBytes, editFraction: 0.01 };
  const [pathA, pathB] = [join(dir, 'csv-a.csv'), join(dir, 'csv-b.csv')];
  const meta = await ensure<CsvMeta>(dir, 'csv', spec, log, () => generateCsv(spec, pathA, pathB));
  return {
    id: 'csv',
    kind: 'file',
    name: 'data.csv',
    versions: [
      { id: 'a', title: `CSV, ${meta.rows} rows`, bytes: meta.bytesA, files: 1 },
      { id: 'b', title: 'CSV with ~1% edited (block inserted mid-file + rows appended)', bytes: meta.bytesB, files: 1, editedBytes: meta.insertedBytes + meta.appendedBytes },
    ],
    sources: [pathA, pathB],
    stage: (stageDir, index) => relink(index === 0 ? pathA : pathB, join(stageDir, 'data.csv')),
  };
}

async function treeScenario(dir: string, seed: number, sizes: Sizes, log: (m: string) => void): Promise<Scenario> {
  const spec = { seed, files: sizes.files, dirs: sizes.dirs };
  const root = join(dir, 'tree-c');
  const changedV = (v: number) => join(dir, `tree-changed-v${v}.json`);
  const meta = await ensure<TreeMeta>(dir, 'tree', spec, log, async () => {
    await removeTree(root);
    const m = await generateTree(spec, root);
    for (const v of [2, 3]) await writeChangedFile(spec, v, changedV(v));
    return m;
  });
  const [v1, v2] = meta.changedSizes;
  return {
    id: 'tree',
    kind: 'tree',
    name: 'tree',
    versions: [
      { id: 'c', title: `${meta.files} small files (1-4 KB) in ${meta.dirs} directories`, bytes: meta.bytes, files: meta.files },
      { id: 'd', title: `(c) with one file changed (${meta.changed})`, bytes: meta.bytes - v1 + v2, files: meta.files, editedBytes: v2 },
    ],
    sources: [root, changedV(2), changedV(3)],
    async stage(stageDir, index) {
      // cp -al: a tree of hard links in one process, far faster than linking from Node.
      if (index === 0) await run('cp', ['-al', root, join(stageDir, 'tree')]);
      else await relink(changedV(2), join(stageDir, 'tree', meta.changed));
    },
    async stageExtra(stageDir) {
      await relink(changedV(3), join(stageDir, 'tree', meta.changed));
      return meta.changed;
    },
  };
}

async function parquetScenario(dir: string, seed: number, sizes: Sizes, log: (m: string) => void): Promise<Scenario> {
  const spec = { seed, bytes: sizes.parquetBytes, rowGroupSize: 100_000 };
  const path = join(dir, 'parquet-e.parquet');
  const meta = await ensure<ParquetMeta>(dir, 'parquet', spec, log, () => generateParquet(spec, path));
  return {
    id: 'parquet',
    kind: 'file',
    name: 'data.parquet',
    versions: [{ id: 'e', title: `Parquet, ${meta.rows} rows in ${meta.rowGroups} row groups (${meta.writer})`, bytes: meta.bytes, files: 1 }],
    sources: [path],
    stage: (stageDir) => relink(path, join(stageDir, 'data.parquet')),
  };
}

/** Generate (or reuse) the data of the given scenarios under `dataDir`. */
export async function prepareScenarios(
  dataDir: string,
  seed: number,
  sizes: Sizes,
  ids: readonly ScenarioId[],
  log: (m: string) => void,
): Promise<Scenario[]> {
  await mkdir(dataDir, { recursive: true });
  const makers = { csv: csvScenario, tree: treeScenario, parquet: parquetScenario };
  const out: Scenario[] = [];
  for (const id of ids) out.push(await makers[id](dataDir, seed, sizes, log));
  return out;
}
