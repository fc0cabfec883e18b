/**
 * Ref resolution: a branch name, a full commit id, a unique id prefix of at least 8 hex digits,
 * each optionally followed by `~N` / `^` ancestor steps (first parent, as in git).
 */
import { fail } from '../errors.js';
import type { Commit } from '../objects/commit.js';
import { keys, keyTail } from '../meta/keys.js';
import type { MetaStore } from '../meta/meta-store.js';
import { getBranch, requireCommit } from '../meta/records.js';
import { isHex64, parseBranchName, type BranchName, type CommitId, type RepoName } from '../types.js';

const REF_RE = /^([A-Za-z0-9][A-Za-z0-9._-]{0,99})((?:~\d*|\^)*)$/;
const MIN_PREFIX = 8;

export interface ParsedRef {
  base: string;
  /** How many first-parent steps back from the base. */
  back: number;
}

export function parseRef(ref: string): ParsedRef {
  const m = REF_RE.exec(ref);
  if (!m) {
    throw fail('E_INVALID_REF', `invalid ref ${JSON.stringify(ref)}: expected a branch, a commit id (or 8+ hex digit prefix), optionally with ~N or ^`, { ref });
  }
  let back = 0;
  for (const step of m[2]!.match(/~\d*|\^/g) ?? []) back += step === '^' || step === '~' ? 1 : Number(step.slice(1));
  return { base: m[1]!, back };
}

export async function resolveRef(meta: MetaStore, repo: RepoName, ref: string): Promise<Commit> {
  const { base, back } = parseRef(ref);
  let commit = await resolveBase(meta, repo, base);
  for (let i = 0; i < back; i++) {
    const parent = commit.parents[0];
    if (!parent) throw fail('E_COMMIT_NOT_FOUND', `ref "${ref}" goes back past the first commit of repo "${repo}"`, { repo, ref });
    commit = await requireCommit(meta, repo, parent);
  }
  return commit;
}

async function resolveBase(meta: MetaStore, repo: RepoName, base: string): Promise<Commit> {
  // A full id is always its commit: a pin names exact bytes forever (no branch can be spelled so).
  if (isHex64(base as unknown)) return requireCommit(meta, repo, base as CommitId);
  // A branch wins over a commit prefix of the same spelling, as in git; new branches may not hide
  // an existing commit's prefix (refuseShadowingBranch).
  const branch = await getBranch(meta, repo, base as BranchName);
  if (branch) {
    if (!branch.head) throw fail('E_COMMIT_NOT_FOUND', `branch "${base}" of repo "${repo}" has no commits yet`, { repo, branch: base });
    return requireCommit(meta, repo, branch.head);
  }
  if (/^[0-9a-f]+$/.test(base) && base.length >= MIN_PREFIX) return requireCommit(meta, repo, await expandPrefix(meta, repo, base));
  parseBranchName(base);
  throw fail('E_BRANCH_NOT_FOUND', `no branch or commit "${base}" in repo "${repo}"`, { repo, ref: base });
}

/**
 * A new branch may not be spelled like a prefix of one of the repo's commits: it would take over
 * that prefix as a ref (`images@e2cb6aa4`), and `put file repo@<prefix>:/x`, meant for the commit,
 * would quietly create it.
 */
export async function refuseShadowingBranch(meta: MetaStore, repo: RepoName, name: BranchName): Promise<void> {
  if (name.length < MIN_PREFIX || !/^[0-9a-f]+$/.test(name)) return;
  for await (const [key] of meta.entries({ ...keys.commitPrefixRange(repo, name), limit: 1 })) {
    throw fail('E_INVALID_NAME', `invalid branch name "${name}": it would hide commit ${keyTail(key)} of repo "${repo}", whose id starts so; pick another name`, {
      kind: 'branch', value: name, commit: keyTail(key),
    });
  }
}

async function expandPrefix(meta: MetaStore, repo: RepoName, prefix: string): Promise<CommitId> {
  const found: string[] = [];
  for await (const [key] of meta.entries({ ...keys.commitPrefixRange(repo, prefix), limit: 2 })) found.push(keyTail(key));
  if (found.length === 0) throw fail('E_COMMIT_NOT_FOUND', `no commit matches "${prefix}" in repo "${repo}"`, { repo, ref: prefix });
  if (found.length > 1) {
    throw fail('E_AMBIGUOUS_REF', `commit prefix "${prefix}" is ambiguous in repo "${repo}": give more digits`, { repo, ref: prefix, matches: found });
  }
  return found[0] as CommitId;
}
