/**
 * Command-line resource specs, pachctl style: `REPO`, `REPO@REF`, `REPO@REF:/PATH` (and
 * `REPO:/PATH`, meaning the default branch). Validated here, once, with the src/types.ts parsers.
 */
import { fail } from '../src/errors.js';
import { parseBranchName, parseRepoName, parseRepoPath, type BranchName, type RepoName, type RepoPath } from '../src/types.js';

export const DEFAULT_BRANCH = 'main' as BranchName;

/** A ref as the server takes it: a branch or commit-id (prefix), then any `~N` / `^` suffixes. */
export type Ref = string;

export interface RefSpec {
  repo: RepoName;
  ref: Ref;
  /** The spec named the ref (`@REF`) rather than defaulting to `main`. */
  explicitRef: boolean;
  /** Present only when the spec had a `:PATH` part. */
  path: RepoPath | undefined;
  /** The raw path ended with `/` (or was `/`): the user means a directory. */
  pathIsDir: boolean;
}

export interface BranchSpec {
  repo: RepoName;
  branch: BranchName;
  /** The spec named the branch (`@BRANCH`) rather than defaulting to `main`. */
  explicitRef: boolean;
  path: RepoPath | undefined;
  pathIsDir: boolean;
}

export type PathRule = 'forbid' | 'optional' | 'require';

const SUFFIX_RE = /^(?:~\d+|\^)*$/;

/**
 * Validate a ref: the base must be a valid branch name (commit ids and prefixes, being hex, are
 * valid names too) and the rest a run of `~N` / `^`. Throws E_INVALID_REF.
 */
export function parseRef(value: string): Ref {
  const cut = value.search(/[~^]/);
  const base = cut === -1 ? value : value.slice(0, cut);
  const suffix = cut === -1 ? '' : value.slice(cut);
  const bad = (why: string) => fail('E_INVALID_REF', `invalid ref ${JSON.stringify(value)}: ${why}`, { ref: value });
  if (base === '') throw bad('expected a branch name or commit id before any "~N" or "^"');
  if (!SUFFIX_RE.test(suffix)) throw bad('after the branch or commit, only "~N" and "^" suffixes are allowed');
  // A full commit id is no branch name (branches may not be spelled so), but a ref all the same;
  // typed in capitals it names the same commit (no branch can be spelled so either).
  if (/^[0-9A-Fa-f]{64}$/.test(base)) return base.toLowerCase() + suffix;
  try {
    parseBranchName(base);
  } catch {
    throw bad('not a valid branch name or commit id');
  }
  return value;
}

/** Split `REPO[@REF][:PATH]` into raw parts without validating them. */
function splitSpec(input: string): { repo: string; ref: string | undefined; path: string | undefined } {
  const colon = input.indexOf(':');
  const head = colon === -1 ? input : input.slice(0, colon);
  const path = colon === -1 ? undefined : input.slice(colon + 1);
  const at = head.indexOf('@');
  if (at === -1) return { repo: head, ref: undefined, path };
  return { repo: head.slice(0, at), ref: head.slice(at + 1), path };
}

function checkPath(input: string, raw: string | undefined, rule: PathRule): { path: RepoPath | undefined; pathIsDir: boolean } {
  if (raw === undefined) {
    if (rule === 'require') {
      throw fail('E_INVALID_PATH', `${JSON.stringify(input)} needs a path: use REPO@REF:/PATH`, { spec: input });
    }
    return { path: undefined, pathIsDir: false };
  }
  if (rule === 'forbid') {
    throw fail('E_BAD_REQUEST', `${JSON.stringify(input)} must not include a path here: use REPO@REF`, { spec: input });
  }
  if (raw === '') throw fail('E_INVALID_PATH', `${JSON.stringify(input)} has an empty path after ":"`, { spec: input });
  const path = parseRepoPath(raw);
  return { path, pathIsDir: path === '/' || raw.endsWith('/') };
}

function checkRepo(input: string, repo: string): RepoName {
  if (repo === '') throw fail('E_INVALID_NAME', `${JSON.stringify(input)} has no repo name before "@"`, { spec: input });
  return parseRepoName(repo);
}

/** Parse `REPO`, `REPO@REF`, `REPO@REF:/PATH`, `REPO:/PATH`; the ref defaults to `main`. */
export function parseRefSpec(input: string, rule: PathRule = 'optional'): RefSpec {
  const parts = splitSpec(input);
  const repo = checkRepo(input, parts.repo);
  if (parts.ref === '') throw fail('E_INVALID_REF', `${JSON.stringify(input)} has an empty ref after "@"`, { spec: input });
  const ref = parts.ref === undefined ? DEFAULT_BRANCH : parseRef(parts.ref);
  return { repo, ref, explicitRef: parts.ref !== undefined, ...checkPath(input, parts.path, rule) };
}

/** Like parseRefSpec, but the ref must be a plain branch name (for writes). */
export function parseBranchSpec(input: string, rule: PathRule = 'optional'): BranchSpec {
  const parts = splitSpec(input);
  const repo = checkRepo(input, parts.repo);
  if (parts.ref === '') throw fail('E_INVALID_NAME', `${JSON.stringify(input)} has an empty branch after "@"`, { spec: input });
  if (parts.ref !== undefined && /[~^]/.test(parts.ref)) {
    throw fail('E_INVALID_REF', `${JSON.stringify(input)}: writes need a branch, not a relative ref like "${parts.ref}"`, {
      spec: input,
    });
  }
  const branch = parts.ref === undefined ? DEFAULT_BRANCH : parseBranchName(parts.ref);
  return { repo, branch, explicitRef: parts.ref !== undefined, ...checkPath(input, parts.path, rule) };
}

/** For commands where defaulting to `main` would be dangerous or odd (`branch delete REPO`). */
export function parseExplicitBranchSpec(input: string): BranchSpec {
  const spec = parseBranchSpec(input, 'forbid');
  if (!spec.explicitRef) {
    throw fail('E_BAD_REQUEST', `${JSON.stringify(input)} must name the branch: use REPO@BRANCH`, { spec: input });
  }
  return spec;
}

/** Render a spec back to text (for messages): `repo@ref:/path`. */
export function formatSpec(repo: string, ref: string, path?: string): string {
  return path === undefined ? `${repo}@${ref}` : `${repo}@${ref}:${path}`;
}
