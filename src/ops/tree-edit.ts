/**
 * Applies a set of path changes to a root tree and returns the new root, rewriting only the trees
 * on changed paths (every untouched subtree keeps its id). New trees are collected in `written`
 * for the caller's atomic batch.
 */
import { fail } from '../errors.js';
import { EMPTY_TREE_ID, treeId, treeSize, type Tree, type TreeEntry } from '../objects/tree.js';
import type { TreeCache } from '../meta/records.js';
import { pathSegments, type ChunkHash, type RepoPath } from '../types.js';

export type TreeEdit =
  | { op: 'put'; path: RepoPath; size: number; hash: ChunkHash; manifest: string }
  | { op: 'delete'; path: RepoPath };

interface EditNode {
  children: Map<string, EditNode>;
  leaf?: TreeEdit;
}

/** Group edits by path segment; a path given twice, or inside another changed path, is rejected. */
export function buildEditTrie(edits: readonly TreeEdit[]): EditNode {
  const root: EditNode = { children: new Map() };
  for (const edit of edits) {
    const segments = pathSegments(edit.path);
    if (segments.length === 0) {
      if (edit.op === 'put') throw fail('E_INVALID_PATH', 'cannot put a file at "/"');
      throw fail('E_INVALID_PATH', 'cannot delete "/"; delete the repo or its top-level paths instead');
    }
    let node = root;
    for (const seg of segments) {
      if (node.leaf) throw conflicting(node.leaf.path, edit.path);
      let child = node.children.get(seg);
      if (!child) node.children.set(seg, (child = { children: new Map() }));
      node = child;
    }
    if (node.leaf || node.children.size > 0) throw conflicting(node.leaf?.path ?? edit.path, edit.path);
    node.leaf = edit;
  }
  return root;
}

function conflicting(a: string, b: string) {
  return fail('E_BAD_REQUEST', a === b ? `path ${a} is changed twice in one commit` : `changes to ${a} and ${b} overlap in one commit`, { paths: [a, b] });
}

export async function applyEdits(trees: TreeCache, rootId: string, edits: EditNode, written: Map<string, Tree>): Promise<string> {
  return applyNode(trees, rootId, edits, '', written);
}

async function applyNode(trees: TreeCache, id: string, node: EditNode, dir: string, written: Map<string, Tree>): Promise<string> {
  const tree = await trees.get(id);
  const byName = new Map<string, TreeEntry>(tree.entries.map((e) => [e.name, e]));
  for (const [name, child] of node.children) {
    const path = `${dir}/${name}`;
    const existing = byName.get(name);
    if (child.leaf?.op === 'delete') {
      if (!existing) throw fail('E_PATH_NOT_FOUND', `cannot delete ${path}: no such file or directory`, { path });
      byName.delete(name);
    } else if (child.leaf?.op === 'put') {
      if (existing?.type === 'dir') throw fail('E_PATH_CONFLICT', `cannot put file ${path}: a directory is there`, { path });
      const { size, hash, manifest } = child.leaf;
      byName.set(name, { name, type: 'file', size, hash, manifest });
    } else {
      if (existing?.type === 'file') throw fail('E_PATH_CONFLICT', `cannot use ${path} as a directory: a file is there`, { path });
      const subId = await applyNode(trees, existing?.tree ?? EMPTY_TREE_ID, child, path, written);
      const sub = subId === EMPTY_TREE_ID ? undefined : (written.get(subId) ?? (await trees.get(subId)));
      if (sub) byName.set(name, { name, type: 'dir', size: treeSize(sub), tree: subId });
      else byName.delete(name); // a directory left empty disappears, as in git
    }
  }
  const entries = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const next: Tree = { entries };
  const nextId = treeId(next);
  if (nextId !== id && nextId !== EMPTY_TREE_ID) written.set(nextId, next);
  return nextId;
}
