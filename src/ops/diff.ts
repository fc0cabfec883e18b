/**
 * Differences between two commits' trees. Subtrees with equal ids are skipped without being read,
 * so a one-file change in a 100k-file dataset touches only the trees on its path. Paged by path.
 */
import type { Commit } from '../objects/commit.js';
import type { ManifestRef } from '../objects/manifest.js';
import type { Tree, TreeEntry } from '../objects/tree.js';
import { EMPTY_TREE_ID } from '../objects/tree.js';
import type { RepoName, RepoPath } from '../types.js';
import { locate, resolveAt } from './browse.js';
import type { EngineContext } from './context.js';
import { decodeCursor, encodeCursor, pageLimit, type PageOptions } from './paging.js';
import { diffSchemas, type SchemaChange } from '../parquet/index.js';
import { isParquetPath, parquetInfoByRef } from './parquet-info.js';

export interface DiffChange {
  type: 'added' | 'modified' | 'deleted';
  path: string;
  size?: number;
  hash?: string;
  oldSize?: number;
  oldHash?: string;
  /** Parquet files: columns added, removed, retyped, nullability changes and the row delta. */
  schema?: SchemaChange;
  /** Parquet files: why a side could not be read as Parquet (the file is still versioned as bytes). */
  schemaError?: string;
}

/** A change as the walk finds it: with the file entries needed to look at Parquet footers. */
type RawChange = DiffChange & { ref?: ManifestRef; oldRef?: ManifestRef };

export interface DiffResult {
  from: string;
  to: string;
  changes: DiffChange[];
  nextCursor: string | null;
}

export async function diffRefs(
  ctx: EngineContext, repo: RepoName, fromRef: string, toRef: string, path: RepoPath, page: PageOptions = {},
): Promise<DiffResult> {
  const [from, to] = await Promise.all([resolveAt(ctx, repo, fromRef), resolveAt(ctx, repo, toRef)]);
  const { changes, nextCursor } = await diffCommits(ctx, from, to, path, page);
  return { from: from.id, to: to.id, changes, nextCursor };
}

/** Like diffRefs on resolved commits; `from` null diffs against the empty tree (a root commit). */
export async function diffCommits(
  ctx: EngineContext, from: Commit | null, to: Commit, path: RepoPath, page: PageOptions = {},
): Promise<{ changes: DiffChange[]; nextCursor: string | null }> {
  const limit = pageLimit(page.limit);
  const after = decodeCursor(page.cursor);
  const empty: Side = { type: 'dir', tree: EMPTY_TREE_ID };
  const [a, b] = await Promise.all([from ? locateOrNone(ctx, from, path) : path === '/' ? empty : undefined, locateOrNone(ctx, to, path)]);
  const raw: RawChange[] = [];
  let nextCursor: string | null = null;
  for await (const change of walk(ctx, a, b, path === '/' ? '' : path, after)) {
    if (raw.length === limit) {
      nextCursor = encodeCursor(raw[raw.length - 1]!.path);
      break;
    }
    raw.push(change);
  }
  return { changes: await Promise.all(raw.map((c) => withSchema(ctx, c))), nextCursor };
}

/** Attach the schema change of a Parquet file; other changes pass through without their entries. */
async function withSchema(ctx: EngineContext, raw: RawChange): Promise<DiffChange> {
  const { ref, oldRef, ...change } = raw;
  if (!isParquetPath(change.path)) return change;
  const [before, after] = await Promise.all([
    oldRef ? parquetInfoByRef(ctx, oldRef) : undefined,
    ref ? parquetInfoByRef(ctx, ref) : undefined,
  ]);
  if (before?.ok === false) return { ...change, schemaError: before.error };
  if (after?.ok === false) return { ...change, schemaError: after.error };
  return { ...change, schema: diffSchemas(before, after) };
}

type Side = { type: 'file'; size: number; hash: string; manifest: string } | { type: 'dir'; tree: string } | undefined;

async function locateOrNone(ctx: EngineContext, commit: Parameters<typeof locate>[1], path: RepoPath): Promise<Side> {
  try {
    const found = await locate(ctx, commit, path);
    return found.type === 'file' ? found : { type: 'dir', tree: found.tree };
  } catch (err) {
    if ((err as { code?: string }).code === 'E_PATH_NOT_FOUND') return undefined;
    throw err;
  }
}

/** Yields changes in path order; `after` skips everything at or before a cursor path. */
async function* walk(ctx: EngineContext, a: Side, b: Side, path: string, after: string | undefined): AsyncGenerator<RawChange> {
  if (after !== undefined && path !== '' && whollyBefore(path, after)) return;
  if (a?.type === 'dir' && b?.type === 'dir') {
    if (a.tree === b.tree) return;
    yield* walkTrees(ctx, await treeOf(ctx, a.tree), await treeOf(ctx, b.tree), path, after);
    return;
  }
  if (a?.type === 'file' && b?.type === 'file') {
    if (a.hash !== b.hash && isAfter(path, after)) {
      yield { type: 'modified', path, size: b.size, hash: b.hash, oldSize: a.size, oldHash: a.hash, ref: b, oldRef: a };
    }
    return;
  }
  // Types differ (or one side is absent): everything under a is deleted, everything under b added.
  if (a) yield* everyFile(ctx, a, path, after, 'deleted');
  if (b) yield* everyFile(ctx, b, path, after, 'added');
}

async function* walkTrees(ctx: EngineContext, ta: Tree, tb: Tree, path: string, after: string | undefined): AsyncGenerator<RawChange> {
  const names = new Set<string>();
  for (const e of ta.entries) names.add(e.name);
  for (const e of tb.entries) names.add(e.name);
  const byA = new Map(ta.entries.map((e) => [e.name, e]));
  const byB = new Map(tb.entries.map((e) => [e.name, e]));
  for (const name of [...names].sort()) {
    yield* walk(ctx, side(byA.get(name)), side(byB.get(name)), `${path}/${name}`, after);
  }
}

async function* everyFile(ctx: EngineContext, s: NonNullable<Side>, path: string, after: string | undefined, type: 'added' | 'deleted'): AsyncGenerator<RawChange> {
  if (s.type === 'file') {
    if (!isAfter(path, after)) return;
    yield type === 'added'
      ? { type, path, size: s.size, hash: s.hash, ref: s }
      : { type, path, oldSize: s.size, oldHash: s.hash, oldRef: s };
    return;
  }
  for (const e of (await treeOf(ctx, s.tree)).entries) {
    const child = `${path}/${e.name}`;
    if (after !== undefined && whollyBefore(child, after)) continue;
    yield* everyFile(ctx, side(e)!, child, after, type);
  }
}

function side(e: TreeEntry | undefined): Side {
  if (!e) return undefined;
  return e.type === 'file' ? { type: 'file', size: e.size, hash: e.hash, manifest: e.manifest } : { type: 'dir', tree: e.tree };
}

function treeOf(ctx: EngineContext, id: string): Promise<Tree> {
  return id === EMPTY_TREE_ID ? Promise.resolve({ entries: [] }) : ctx.trees.get(id);
}

/**
 * Tree order compares paths segment by segment, which plain string order does not (`/a/b` comes
 * before `/a.txt` in a tree, after it as a string). Mapping '/' to NUL, which no path segment may
 * contain, makes string order equal tree order.
 */
function orderKey(path: string): string {
  return path.replaceAll('/', '\0');
}

function isAfter(path: string, after: string | undefined): boolean {
  return after === undefined || orderKey(path) > orderKey(after);
}

/** The path and everything below it sort at or before the cursor. */
function whollyBefore(path: string, after: string): boolean {
  return orderKey(path) <= orderKey(after) && !after.startsWith(`${path}/`);
}
