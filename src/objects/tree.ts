/**
 * One directory: entries sorted by name. Trees are content-addressed per directory, so changing
 * one file rewrites only the trees on its path. Pure, no I/O.
 */
import type { ChunkHash } from '../types.js';
import { objectId } from './canonical.js';

export interface FileEntry {
  name: string;
  type: 'file';
  size: number;
  /** Whole-file BLAKE3 (what b3sum prints). */
  hash: ChunkHash;
  /** Id of the stored Manifest. */
  manifest: string;
}

export interface DirEntry {
  name: string;
  type: 'dir';
  /** Total bytes of every file below. */
  size: number;
  tree: string;
}

export type TreeEntry = FileEntry | DirEntry;

export interface Tree {
  entries: TreeEntry[];
}

/**
 * The canonical encoding, built directly like encodeManifest's: each entry written as a literal
 * with its keys in sorted order, so JSON.stringify gives exactly canonicalJson's output without
 * the generic key sort (a test holds them equal). A 100k-file commit encodes 100k entries.
 */
export function encodeTree(tree: Tree): string {
  return JSON.stringify(tree.entries.map(canonicalEntry));
}

function canonicalEntry(e: TreeEntry) {
  return e.type === 'file'
    ? { hash: e.hash, manifest: e.manifest, name: e.name, size: e.size, type: e.type }
    : { name: e.name, size: e.size, tree: e.tree, type: e.type };
}

export function decodeTree(body: string): Tree {
  return { entries: JSON.parse(body) as TreeEntry[] };
}

export function treeId(tree: Tree): string {
  return objectId('tree', encodeTree(tree));
}

export const EMPTY_TREE: Tree = { entries: [] };
export const EMPTY_TREE_ID = treeId(EMPTY_TREE);

export function treeSize(tree: Tree): number {
  let size = 0;
  for (const e of tree.entries) size += e.size;
  return size;
}

/** Binary search by name (entries are sorted by UTF-16 code unit order, as JS sorts strings). */
export function findEntry(tree: Tree, name: string): TreeEntry | undefined {
  const i = lowerBound(tree.entries, name);
  const e = tree.entries[i];
  return e !== undefined && e.name === name ? e : undefined;
}

/** Index of the first entry whose name is >= name. */
export function lowerBound(entries: readonly TreeEntry[], name: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.name < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
