/** Parse and validate request inputs once, at the edge; handlers get branded, trusted values. */
import { fail } from '../src/errors.js';
import { parseBranchName, parseChunkHash, parseCommitId, parseRepoName, parseRepoPath, type ChunkHash } from '../src/types.js';

type Dict = Record<string, unknown>;

export const repoParam = (params: unknown) => parseRepoName((params as Dict).repo);
export const branchParam = (params: unknown) => parseBranchName((params as Dict).branch);
export const refParam = (params: unknown) => stringField(params as Dict, 'ref');

/**
 * Refuse a body of another media type than the endpoint reads. fastify parses text/plain into a
 * string, which an upload or commit handler would otherwise take for its stream or object.
 */
export function requireMediaType(headers: { 'content-type'?: string }, ...accepted: string[]): void {
  const type = mediaType(headers);
  if (accepted.includes(type)) return;
  throw fail('E_BAD_REQUEST', `${type === '' ? 'no Content-Type' : `Content-Type "${type}"`}: this endpoint takes ${accepted.join(' or ')}`, { contentType: type });
}

/** The body's media type without parameters, lower case; '' when none is given. */
export function mediaType(headers: { 'content-type'?: string }): string {
  return (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

export function stringField(obj: Dict | undefined, name: string): string {
  const v = obj?.[name];
  if (typeof v !== 'string' || v === '') throw fail('E_BAD_REQUEST', `"${name}" is required and must be a non-empty string`);
  return v;
}

export function optionalString(obj: Dict | undefined, name: string): string | undefined {
  const v = obj?.[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw fail('E_BAD_REQUEST', `"${name}" must be a string`);
  return v;
}

/**
 * The `author` of a write (commit body or query): absent is "unknown"; blank is refused, as git
 * refuses an empty ident name: a commit's author is who to ask about it.
 */
export function authorField(obj: Dict | undefined): string {
  const value = optionalString(obj, 'author');
  if (value === undefined) return 'unknown';
  if (value.trim() === '') throw fail('E_BAD_REQUEST', '"author" must not be empty (leave it out for "unknown")');
  return value;
}

export function pathQuery(query: unknown, fallback?: string) {
  const v = optionalString(query as Dict, 'path') ?? fallback;
  if (v === undefined) throw fail('E_BAD_REQUEST', '"path" query parameter is required');
  return parseRepoPath(v);
}

export function pageQuery(query: unknown): { limit?: number; cursor?: string } {
  const q = query as Dict;
  const limit = optionalString(q, 'limit');
  const cursor = optionalString(q, 'cursor');
  if (limit !== undefined && !/^\d+$/.test(limit)) throw fail('E_BAD_REQUEST', '"limit" must be a positive integer');
  return { limit: limit === undefined ? undefined : Number(limit), cursor };
}

/** A `1`/`true` query flag; `fallback` when the parameter is absent. */
export function flagQuery(query: unknown, name: string, fallback = false): boolean {
  const v = optionalString(query as Dict, name);
  return v === undefined ? fallback : v === '1' || v === 'true';
}

export function hashList(body: unknown): ChunkHash[] {
  const hashes = (body as Dict | undefined)?.hashes;
  if (!Array.isArray(hashes)) throw fail('E_BAD_REQUEST', '"hashes" must be an array of 64-hex chunk hashes');
  return hashes.map(parseChunkHash);
}

export function optionalParent(body: Dict) {
  if (!('parent' in body) || body.parent === undefined) return undefined;
  return body.parent === null ? null : parseCommitId(body.parent);
}
