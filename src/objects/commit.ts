/**
 * Commits are content-addressed: the id is BLAKE3 of a canonical encoding of parents, root tree,
 * author, message, time and metadata, so an id pins exact bytes and history is tamper-evident.
 */
import type { CommitId } from '../types.js';
import { canonicalJson, objectId } from './canonical.js';

export interface CommitBody {
  parents: CommitId[];
  tree: string;
  author: string;
  message: string;
  /** ISO-8601 UTC, millisecond precision. */
  createdAt: string;
  metadata: Record<string, unknown>;
}

export interface Commit extends CommitBody {
  id: CommitId;
}

export function encodeCommit(body: CommitBody): string {
  const { parents, tree, author, message, createdAt, metadata } = body;
  return canonicalJson({ parents, tree, author, message, createdAt, metadata });
}

export function commitId(body: CommitBody): CommitId {
  return objectId('commit', encodeCommit(body)) as CommitId;
}

export function makeCommit(body: CommitBody): Commit {
  return { id: commitId(body), ...body };
}

/** Re-derive the id from the stored body: a stored commit that does not hash to its key is corrupt. */
export function verifyCommit(commit: Commit): boolean {
  return commitId(commit) === commit.id;
}
