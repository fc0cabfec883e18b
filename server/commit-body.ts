/**
 * Commit requests at the edge, in both forms of POST /v1/repos/:repo/commits (docs/http-api.md):
 * one JSON object, or NDJSON (a header line, then one change per line, streamed). Both go through
 * the same header and change parsers and the same engine call.
 */
import { DatactlError, fail } from '../src/errors.js';
import { parseManifest } from '../src/objects/manifest.js';
import type { Change, CommitRequest } from '../src/ops/commit.js';
import { parseBranchName, parseRepoPath, type RepoName } from '../src/types.js';
import type { NumberedLine } from './ndjson.js';
import { authorField, optionalParent, optionalString } from './params.js';

type Dict = Record<string, unknown>;
const MAX_MESSAGE = 64 * 1024;

/** Everything of a commit request but its changes. */
export function parseCommitHeader(repo: RepoName, body: Dict): Omit<CommitRequest, 'changes'> {
  return {
    repo,
    branch: parseBranchName(body.branch),
    message: boundedText(optionalString(body, 'message') ?? '', 'message'),
    author: boundedText(authorField(body), 'author'),
    metadata: parseMetadata(body.metadata),
    parent: optionalParent(body),
    createBranch: body.createBranch !== false,
  };
}

/** One change; `where` names it in messages (`changes[3]`, `change`). */
export function parseChange(value: unknown, where: string): Change {
  if (value === null || typeof value !== 'object') throw fail('E_BAD_REQUEST', `${where} must be an object`);
  const c = value as Dict;
  const path = parseRepoPath(c.path);
  if (c.op === 'delete') return { op: 'delete', path };
  if (c.op === 'put') return { op: 'put', path, manifest: parseManifest(c.manifest, path) };
  throw fail('E_BAD_REQUEST', `${where}.op must be "put" or "delete"`);
}

/** The JSON form: `changes` is an array, validated whole before the engine sees it (as before NDJSON existed). */
export function parseChangeArray(value: unknown): Change[] {
  if (!Array.isArray(value)) throw fail('E_BAD_REQUEST', '"changes" must be an array');
  return value.map((c, i) => parseChange(c, `changes[${i}]`));
}

/**
 * The NDJSON form: the first line is the header, every later line one change. Changes are parsed
 * as the engine pulls them, so a bad line N rejects the commit with its line number before
 * anything is committed.
 */
export async function parseCommitStream(
  repo: RepoName, lines: AsyncIterable<readonly NumberedLine[]>,
): Promise<CommitRequest> {
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  const [head, ...rest] = first.done ? [] : first.value;
  if (!head) throw fail('E_BAD_REQUEST', 'empty body: the first line must be the commit header');
  const header = atLine(head.line, () => {
    const value = parseJsonLine(head.text, rejectPrototypeKeys);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fail('E_BAD_REQUEST', 'the header must be a JSON object');
    if ('changes' in value) throw fail('E_BAD_REQUEST', '"changes" does not go in the header: send one change per line after it');
    return parseCommitHeader(repo, value as Dict);
  });
  return { ...header, changes: changesOf(rest, iterator) };
}

/** The changes, a batch of lines at a time: `first` are the lines that came with the header. */
async function* changesOf(first: readonly NumberedLine[], iterator: AsyncIterator<readonly NumberedLine[]>): AsyncGenerator<Change[]> {
  try {
    if (first.length > 0) yield parseChanges(first);
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield parseChanges(next.value);
  } finally {
    await iterator.return?.();
  }
}

function parseChanges(lines: readonly NumberedLine[]): Change[] {
  return lines.map(({ line, text }) => atLine(line, () => parseChange(parseJsonLine(text), 'change')));
}

function parseJsonLine(text: string, reviver?: (key: string, value: unknown) => unknown): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text, reviver);
  } catch (err) {
    if (err instanceof DatactlError) throw err;
    throw fail('E_BAD_REQUEST', `not valid JSON (${(err as Error).message})`);
  }
  return value;
}

/**
 * The header carries free-form `metadata`: refuse what fastify's JSON parser refuses in the JSON
 * form (`__proto__`, `constructor.prototype`). Change lines need no such check: only known fields
 * are read from them, into new objects.
 */
function rejectPrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || (key === 'constructor' && value !== null && typeof value === 'object' && 'prototype' in value)) {
    throw fail('E_BAD_REQUEST', `the header has a forbidden "${key}" key`);
  }
  return value;
}

/** Run a line's parser; its error gets the line number in the message and in `details.line`. */
function atLine<T>(line: number, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof DatactlError)) throw err;
    throw new DatactlError(err.code, `line ${line}: ${err.message}`, { ...err.details, line });
  }
}

function parseMetadata(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw fail('E_BAD_REQUEST', '"metadata" must be a JSON object');
  return value as Record<string, unknown>;
}

function boundedText(value: string, name: string): string {
  if (value.length > MAX_MESSAGE) throw fail('E_BAD_REQUEST', `"${name}" is longer than ${MAX_MESSAGE} characters`);
  return value;
}
