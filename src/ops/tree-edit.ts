/**
 * Applies a set of path changes to a root tree and returns the new root, rewriting only the trees
 * on changed paths (every untouched subtree keeps its id). New trees go to the caller's sink as
 * they are made, encoded, so a commit of 100k files never holds all its trees at once.
 */
import { fail } from '../errors.js';
import { objectId } from '../objects/canonical.js';
import { EMPTY_TREE_ID, encodeTree, treeSize, type FileEntry, type Tree, type TreeEntry } from '../objects/tree.js';
import type { TreeCache } from '../meta/records.js';
import { pathSegments, type ChunkHash, type RepoPath } from '../types.js';

export type TreeEdit =
  | { op: 'put'; path: RepoPath; size: number; hash: ChunkHash; manifest: string }
  | { op: 'delete'; path: RepoPath };

/** A directory of edits: child name -> a subdirectory, or a leaf (DELETED, or a put's index in FileSlab). */
type EditDir = Map<string, EditDir | number>;
const DELETED = -1;

/**
 * Edits grouped by path segment, added one at a time as a commit's changes stream in. A commit of
 * 100k files holds 100k leaves for as long as it runs, so a leaf is a number in its directory's
 * Map and what a tree entry needs lives off the heap in a FileSlab: ~150 bytes a file rather than
 * ~450 of strings and objects, and nothing for the garbage collector to trace.
 */
export class EditTrie {
  readonly root: EditDir = new Map();
  readonly files = new FileSlab();

  /** A path given twice, or inside another changed path, is rejected. */
  add(edit: TreeEdit): void {
    const segments = pathSegments(edit.path);
    if (segments.length === 0) {
      if (edit.op === 'put') throw fail('E_INVALID_PATH', 'cannot put a file at "/"');
      throw fail('E_INVALID_PATH', 'cannot delete "/"; delete the repo or its top-level paths instead');
    }
    let dir = this.root;
    const last = segments.length - 1;
    for (let i = 0; i < last; i++) {
      let child = dir.get(segments[i]!);
      if (typeof child === 'number') throw conflicting(prefix(segments, i), edit.path);
      if (!child) dir.set(segments[i]!, (child = new Map()));
      dir = child;
    }
    const name = segments[last]!;
    const there = dir.get(name);
    if (there !== undefined) throw conflicting(typeof there === 'number' ? edit.path : firstPathUnder(there, edit.path), edit.path);
    dir.set(name, edit.op === 'delete' ? DELETED : this.files.push(edit.size, edit.hash, edit.manifest));
  }
}

function prefix(segments: readonly string[], last: number): string {
  return `/${segments.slice(0, last + 1).join('/')}`;
}

/** A path changed below `path` (directories in the trie are never empty). */
function firstPathUnder(dir: EditDir, path: string): string {
  const [name, child] = dir.entries().next().value!;
  return typeof child === 'number' ? `${path}/${name}` : firstPathUnder(child, `${path}/${name}`);
}

function conflicting(a: string, b: string) {
  return fail('E_BAD_REQUEST', a === b ? `path ${a} is changed twice in one commit` : `changes to ${a} and ${b} overlap in one commit`, { paths: [a, b] });
}

const BLOCK_BITS = 10;
const BLOCK = 1 << BLOCK_BITS;
const HASHES_BYTES = 64;

/** Size, content hash and manifest id of each put, in blocks of binary: 72 bytes a file. */
class FileSlab {
  private readonly hashes: Buffer[] = [];
  private readonly sizes: Float64Array[] = [];
  private count = 0;

  push(size: number, hash: string, manifest: string): number {
    const i = this.count;
    const at = (i & (BLOCK - 1)) * HASHES_BYTES;
    if (at === 0) {
      this.hashes.push(Buffer.allocUnsafe(BLOCK * HASHES_BYTES));
      this.sizes.push(new Float64Array(BLOCK));
    }
    const block = this.hashes[i >>> BLOCK_BITS]!;
    if (block.write(hash, at, 32, 'hex') !== 32 || block.write(manifest, at + 32, 32, 'hex') !== 32) {
      throw fail('E_INTERNAL', `not a 64-hex hash: ${hash} / ${manifest}`);
    }
    this.sizes[i >>> BLOCK_BITS]![i & (BLOCK - 1)] = size;
    return this.count++;
  }

  entry(i: number, name: string): FileEntry {
    const block = this.hashes[i >>> BLOCK_BITS]!;
    const at = (i & (BLOCK - 1)) * HASHES_BYTES;
    return {
      name,
      type: 'file',
      size: this.sizes[i >>> BLOCK_BITS]![i & (BLOCK - 1)]!,
      hash: block.toString('hex', at, at + 32) as ChunkHash,
      manifest: block.toString('hex', at + 32, at + 64),
    };
  }
}

/** Receives each new tree once, by id and encoded (it was hashed from the same string). */
export type TreeSink = (id: string, body: string) => Promise<void>;

export async function applyEdits(trees: TreeCache, rootId: string, edits: EditTrie, written: TreeSink): Promise<string> {
  return (await applyDir(trees, edits.files, rootId, edits.root, '', written)).id;
}

async function applyDir(
  trees: TreeCache, files: FileSlab, id: string, edits: EditDir, dir: string, written: TreeSink,
): Promise<{ id: string; size: number }> {
  const tree = await trees.get(id);
  const byName = new Map<string, TreeEntry>(tree.entries.map((e) => [e.name, e]));
  for (const [name, edit] of edits) {
    const path = `${dir}/${name}`;
    const existing = byName.get(name);
    if (edit === DELETED) {
      if (!existing) throw fail('E_PATH_NOT_FOUND', `cannot delete ${path}: no such file or directory`, { path });
      byName.delete(name);
    } else if (typeof edit === 'number') {
      if (existing?.type === 'dir') throw fail('E_PATH_CONFLICT', `cannot put file ${path}: a directory is there`, { path });
      byName.set(name, files.entry(edit, name));
    } else {
      if (existing?.type === 'file') throw fail('E_PATH_CONFLICT', `cannot use ${path} as a directory: a file is there`, { path });
      const sub = await applyDir(trees, files, existing?.tree ?? EMPTY_TREE_ID, edit, path, written);
      if (sub.id !== EMPTY_TREE_ID) byName.set(name, { name, type: 'dir', size: sub.size, tree: sub.id });
      else byName.delete(name); // a directory left empty disappears, as in git
    }
  }
  const entries = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const next: Tree = { entries };
  const body = encodeTree(next);
  const nextId = objectId('tree', body);
  if (nextId !== id && nextId !== EMPTY_TREE_ID) await written(nextId, body);
  return { id: nextId, size: treeSize(next) };
}
