/** Reading the tree of a commit: find a path, stat it, list a directory page by page. */
import { fail } from '../errors.js';
import type { Commit } from '../objects/commit.js';
import type { ManifestChunk } from '../objects/manifest.js';
import { EMPTY_TREE_ID, findEntry, lowerBound, treeSize, type FileEntry, type TreeEntry } from '../objects/tree.js';
import { getManifest, getManifests, requireRepo } from '../meta/records.js';
import { resolveRef } from '../refs/resolve.js';
import { joinPath, pathSegments, type RepoName, type RepoPath } from '../types.js';
import type { EngineContext } from './context.js';
import { decodeCursor, encodeCursor, pageLimit, type Page, type PageOptions } from './paging.js';

/** An entry as the API shows it. `chunks` only for files, and only when asked for. */
export interface EntryView {
  name: string;
  path: RepoPath;
  type: 'file' | 'dir';
  size: number;
  hash?: string;
  chunks?: ManifestChunk[];
}

/** The root is a directory without an entry of its own; model it as one. */
export type Located = TreeEntry | { name: ''; type: 'dir'; size: number; tree: string };

export async function locate(ctx: EngineContext, commit: Commit, path: RepoPath): Promise<Located> {
  let current: Located = { name: '', type: 'dir', size: 0, tree: commit.tree };
  let walked = '';
  for (const seg of pathSegments(path)) {
    if (current.type !== 'dir') throw fail('E_PATH_NOT_FOUND', `${path} not found at commit ${commit.id.slice(0, 12)}: ${walked} is a file`, { path });
    const tree = await ctx.trees.get(current.tree);
    const next = findEntry(tree, seg);
    walked += `/${seg}`;
    if (!next) throw fail('E_PATH_NOT_FOUND', `${path} not found at commit ${commit.id.slice(0, 12)}`, { path, commit: commit.id });
    current = next;
  }
  return current;
}

export async function resolveAt(ctx: EngineContext, repo: RepoName, ref: string): Promise<Commit> {
  await requireRepo(ctx.meta, repo);
  return resolveRef(ctx.meta, repo, ref);
}

export async function requireFile(ctx: EngineContext, commit: Commit, path: RepoPath): Promise<FileEntry> {
  const found = await locate(ctx, commit, path);
  if (found.type !== 'file') throw fail('E_NOT_A_FILE', `${path} is a directory, not a file`, { path });
  return found;
}

export async function viewEntry(ctx: EngineContext, entry: TreeEntry, path: RepoPath, withChunks: boolean): Promise<EntryView> {
  const view = entryView(entry, path);
  if (withChunks && entry.type === 'file') view.chunks = (await getManifest(ctx.meta, entry)).chunks;
  return view;
}

/** An entry as listed, without chunks: no await, so a page of them takes no promise per entry. */
function entryView(entry: TreeEntry, path: RepoPath): EntryView {
  if (entry.type === 'dir') return { name: entry.name, path, type: 'dir', size: entry.size };
  return { name: entry.name, path, type: 'file', size: entry.size, hash: entry.hash };
}

export async function statPath(ctx: EngineContext, repo: RepoName, ref: string, path: RepoPath): Promise<{ commit: Commit; entry: EntryView }> {
  const commit = await resolveAt(ctx, repo, ref);
  const found = await locate(ctx, commit, path);
  if (found.name === '' && found.type === 'dir') {
    const size = found.tree === EMPTY_TREE_ID ? 0 : treeSize(await ctx.trees.get(found.tree));
    return { commit, entry: { name: '', path, type: 'dir', size } };
  }
  return { commit, entry: await viewEntry(ctx, found as TreeEntry, path, true) };
}

export interface ListOptions extends PageOptions {
  manifests?: boolean;
}

export async function listDirectory(
  ctx: EngineContext, repo: RepoName, ref: string, path: RepoPath, opts: ListOptions = {},
): Promise<{ commit: Commit; page: Page<EntryView> }> {
  const commit = await resolveAt(ctx, repo, ref);
  const limit = pageLimit(opts.limit);
  const found = await locate(ctx, commit, path);
  if (found.type !== 'dir') throw fail('E_NOT_A_DIRECTORY', `${path} is a file, not a directory`, { path });
  const tree = await ctx.trees.get(found.tree);
  const after = decodeCursor(opts.cursor);
  let start = after === undefined ? 0 : lowerBound(tree.entries, after);
  if (after !== undefined && tree.entries[start]?.name === after) start++;
  const slice = tree.entries.slice(start, start + limit);
  const items = slice.map((e) => entryView(e, joinPath(path, e.name)));
  if (opts.manifests === true) {
    // One getMany for the page's manifests: a get per file was most of a 100k-file listing's cost.
    const files = items.filter((v) => v.type === 'file');
    const manifests = await getManifests(ctx.meta, slice.filter((e) => e.type === 'file'));
    files.forEach((v, i) => (v.chunks = manifests[i]!.chunks));
  }
  const more = start + limit < tree.entries.length;
  return { commit, page: { items, nextCursor: more ? encodeCursor(slice[slice.length - 1]!.name) : null } };
}
