/**
 * Identifiers with their own types, validated once at the edge (HTTP, CLI) and trusted inside.
 */
import { fail } from './errors.js';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type RepoName = Brand<string, 'RepoName'>;
export type BranchName = Brand<string, 'BranchName'>;
/** 64 lowercase hex digits: BLAKE3 of a commit's canonical encoding. */
export type CommitId = Brand<string, 'CommitId'>;
/** 64 lowercase hex digits: BLAKE3 of a chunk's bytes (also used for file content hashes). */
export type ChunkHash = Brand<string, 'ChunkHash'>;
/** A normalized absolute repo path: `/` or `/a/b.csv`, no trailing slash, no empty/dot segments. */
export type RepoPath = Brand<string, 'RepoPath'>;

// Names are safe in URLs, LevelDB keys (':' is the key separator) and file systems.
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const HEX64_RE = /^[0-9a-f]{64}$/;
export const MAX_PATH_BYTES = 4096;
export const MAX_SEGMENT_BYTES = 255;

function checkName(kind: 'repo' | 'branch', value: unknown): string {
  if (typeof value !== 'string' || !NAME_RE.test(value) || value.endsWith('.lock') || value.includes('..')) {
    throw fail(
      'E_INVALID_NAME',
      `invalid ${kind} name ${JSON.stringify(value)}: use 1-100 characters from [A-Za-z0-9._-], starting with a letter or digit, without ".." or a ".lock" suffix`,
      { kind, value },
    );
  }
  // A commit id always names its commit (refs/resolve.ts); a branch spelled like one could not be named.
  if (kind === 'branch' && /^[0-9a-fA-F]{64}$/.test(value)) {
    throw fail('E_INVALID_NAME', `invalid branch name ${JSON.stringify(value)}: 64 hex digits spell a commit id`, { kind, value });
  }
  return value;
}

export const parseRepoName = (value: unknown): RepoName => checkName('repo', value) as RepoName;
export const parseBranchName = (value: unknown): BranchName => checkName('branch', value) as BranchName;

export function isHex64(value: unknown): value is string {
  return typeof value === 'string' && HEX64_RE.test(value);
}

export function parseChunkHash(value: unknown): ChunkHash {
  if (!isHex64(value)) throw fail('E_INVALID_HASH', `invalid hash ${JSON.stringify(value)}: expected 64 lowercase hex digits`);
  return value as ChunkHash;
}

export function parseCommitId(value: unknown): CommitId {
  if (!isHex64(value)) throw fail('E_INVALID_REF', `invalid commit id ${JSON.stringify(value)}: expected 64 lowercase hex digits`);
  return value as CommitId;
}

/**
 * Normalize a user path to `/a/b`. Rejects rather than repairs anything that could mean two
 * things: `..`, `.`, empty segments (`a//b`), backslashes, NUL and other control characters.
 * A missing leading slash is added; one trailing slash is tolerated (`/dir/`).
 */
export function parseRepoPath(value: unknown): RepoPath {
  if (typeof value !== 'string') throw fail('E_INVALID_PATH', 'path must be a string');
  const bad = (why: string) => fail('E_INVALID_PATH', `invalid path ${JSON.stringify(value)}: ${why}`, { path: value });
  if (Buffer.byteLength(value) > MAX_PATH_BYTES) throw bad(`longer than ${MAX_PATH_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) throw bad('control characters (including NUL) are not allowed');
  if (value.includes('\\')) throw bad('backslashes are not allowed; use "/" as the separator');
  // Bytes that were not UTF-8 arrive as U+FFFD (or lone surrogates from JSON escapes): different
  // names would collapse into one path.
  if (NOT_UNICODE.test(value)) throw bad('not valid Unicode (U+FFFD or a lone surrogate: a name that was not UTF-8?)');
  let p = value.startsWith('/') ? value : `/${value}`;
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  if (p === '/') return p as RepoPath;
  for (const seg of p.slice(1).split('/')) {
    if (seg === '') throw bad('empty path segment');
    if (seg === '.' || seg === '..') throw bad(`"${seg}" segments are not allowed`);
    if (Buffer.byteLength(seg) > MAX_SEGMENT_BYTES) throw bad(`segment longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return p as RepoPath;
}

/**
 * Whether a file name (from readdir: never '', '.', '..', nor holding '/') is a path segment that
 * needs no further check: no control characters or backslash, and at most MAX_SEGMENT_BYTES / 3
 * UTF-16 units, so within MAX_SEGMENT_BYTES in UTF-8. Lets a put of 100k files skip the full
 * parseRepoPath of each (a tenth of its planning time); anything else gets that parse.
 */
export function isPlainName(name: string): boolean {
  return name.length <= MAX_SEGMENT_BYTES / 3 && PLAIN_NAME.test(name);
}

// eslint-disable-next-line no-control-regex
const PLAIN_NAME = /^[^\x00-\x1f\x7f\\\ufffd]+$/;
const NOT_UNICODE = /\ufffd|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Split `/a/b/c` into `['a','b','c']`; `/` gives `[]`. */
export function pathSegments(path: RepoPath): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

export function joinPath(dir: RepoPath, name: string): RepoPath {
  return (dir === '/' ? `/${name}` : `${dir}/${name}`) as RepoPath;
}
