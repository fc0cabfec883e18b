import type { FastifyInstance } from 'fastify';
import { fail } from '../../src/errors.js';
import { parseManifest } from '../../src/objects/manifest.js';
import { checkAncestry } from '../../src/ops/ancestry.js';
import { commitChanges, type Change } from '../../src/ops/commit.js';
import type { EngineContext } from '../../src/ops/context.js';
import { diffRefs } from '../../src/ops/diff.js';
import { commitLog, inspectCommit } from '../../src/ops/log.js';
import { parseBranchName, parseRepoPath } from '../../src/types.js';
import { optionalParent, optionalString, pageQuery, pathQuery, refParam, repoParam, stringField } from '../params.js';
import { commitView } from '../views.js';

/**
 * ~500k file changes in one commit (a change is ~250 bytes of JSON). The body is parsed whole, so
 * this also bounds the parse's heap; every other JSON route keeps the 1 MiB default.
 */
export const COMMIT_BODY_LIMIT = 128 * 1024 * 1024;
const MAX_MESSAGE = 64 * 1024;

export function commitRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.get('/v1/repos/:repo/commits', async (req) => {
    const repo = repoParam(req.params);
    const ref = optionalString(req.query as Record<string, unknown>, 'ref') ?? 'main';
    const page = await commitLog(ctx, repo, ref, pageQuery(req.query));
    return { commits: page.items.map((c) => commitView(repo, c)), nextCursor: page.nextCursor };
  });

  app.get('/v1/repos/:repo/commits/:ref', async (req) => {
    const repo = repoParam(req.params);
    return commitView(repo, await inspectCommit(ctx, repo, refParam(req.params)));
  });

  app.post('/v1/repos/:repo/commits', { bodyLimit: COMMIT_BODY_LIMIT }, async (req, reply) => {
    const repo = repoParam(req.params);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const result = await commitChanges(ctx, {
      repo,
      branch: parseBranchName(body.branch),
      changes: parseChanges(body.changes),
      message: boundedText(optionalString(body, 'message') ?? '', 'message'),
      author: boundedText(optionalString(body, 'author') ?? 'unknown', 'author'),
      metadata: parseMetadata(body.metadata),
      parent: optionalParent(body),
      createBranch: body.createBranch !== false,
    });
    return reply.status(result.created ? 201 : 200).send({ created: result.created, commit: result.commit && commitView(repo, result.commit) });
  });

  app.get('/v1/repos/:repo/ancestry', async (req) => {
    const q = req.query as Record<string, unknown>;
    return checkAncestry(ctx, repoParam(req.params), stringField(q, 'ancestor'), stringField(q, 'descendant'));
  });

  app.get('/v1/repos/:repo/diff', async (req) => {
    const q = req.query as Record<string, unknown>;
    return diffRefs(ctx, repoParam(req.params), stringField(q, 'from'), stringField(q, 'to'), pathQuery(q, '/'), pageQuery(q));
  });
}

function parseChanges(value: unknown): Change[] {
  if (!Array.isArray(value)) throw fail('E_BAD_REQUEST', '"changes" must be an array');
  return value.map((c: Record<string, unknown>, i) => {
    if (c === null || typeof c !== 'object') throw fail('E_BAD_REQUEST', `changes[${i}] must be an object`);
    const path = parseRepoPath(c.path);
    if (c.op === 'delete') return { op: 'delete', path };
    if (c.op === 'put') return { op: 'put', path, manifest: parseManifest(c.manifest, path) };
    throw fail('E_BAD_REQUEST', `changes[${i}].op must be "put" or "delete"`);
  });
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
