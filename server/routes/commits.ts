import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkAncestry } from '../../src/ops/ancestry.js';
import { commitChanges, type CommitRequest, type CommitResult } from '../../src/ops/commit.js';
import type { EngineContext } from '../../src/ops/context.js';
import { diffRefs } from '../../src/ops/diff.js';
import { commitLog, inspectCommit } from '../../src/ops/log.js';
import type { RepoName } from '../../src/types.js';
import { parseChangeArray, parseCommitHeader, parseCommitStream } from '../commit-body.js';
import { discardRest, ndjsonLines, type LineLimits } from '../ndjson.js';
import { mediaType, optionalString, pageQuery, pathQuery, refParam, repoParam, requireMediaType, stringField } from '../params.js';
import { commitView } from '../views.js';

/**
 * The JSON form: ~500k file changes in one commit (a change is ~250 bytes of JSON). The body is
 * parsed whole, so this also bounds the parse's heap; every other JSON route keeps the 1 MiB default.
 */
export const COMMIT_BODY_LIMIT = 128 * 1024 * 1024;

/**
 * The NDJSON form holds one line at a time. A line is one change, and a huge file's manifest is
 * long (~77 bytes per chunk: a 100 GiB file in ~1 MiB chunks is ~8 MB), hence the line cap. The
 * body cap only keeps a runaway client finite (~16M small files).
 */
export const NDJSON_LIMITS: LineLimits = { maxLineBytes: 64 * 1024 * 1024, maxBodyBytes: 4 * 1024 * 1024 * 1024 };
/** After an error, how much more of a body is read (and dropped) so the client sees the answer. */
const DISCARD_AFTER_ERROR_BYTES = 64 * 1024 * 1024;

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

  app.register(async (scope) => {
    // The streamed form reaches the handler unread; JSON is parsed by fastify as everywhere.
    scope.addContentTypeParser('application/x-ndjson', (_req, payload, done) => done(null, payload));
    scope.post('/v1/repos/:repo/commits', { bodyLimit: COMMIT_BODY_LIMIT }, async (req, reply) => {
      const repo = repoParam(req.params);
      requireMediaType(req.headers, 'application/json', 'application/x-ndjson');
      const result = isNdjson(req) ? await commitFromStream(ctx, repo, req) : await commitChanges(ctx, commitFromJson(repo, req.body));
      return reply.status(result.created ? 201 : 200).send({ created: result.created, commit: result.commit && commitView(repo, result.commit) });
    });
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

function isNdjson(req: FastifyRequest): boolean {
  return mediaType(req.headers) === 'application/x-ndjson';
}

function commitFromJson(repo: RepoName, body: unknown): CommitRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  return { ...parseCommitHeader(repo, b), changes: parseChangeArray(b.changes) };
}

/** The NDJSON form: lines are parsed as the engine pulls changes, so the body is never held whole. */
async function commitFromStream(ctx: EngineContext, repo: RepoName, req: FastifyRequest): Promise<CommitResult> {
  // Not destroyed when reading stops early: the rest is discarded instead, see below.
  const lines = ndjsonLines((req.body as Readable).iterator({ destroyOnReturn: false }), NDJSON_LIMITS);
  try {
    return await commitChanges(ctx, await parseCommitStream(repo, lines));
  } catch (err) {
    // Answer the error to a client that may still be sending (a bad line 5 of 100k, a 409 on the
    // header). The reader must let go of the stream first: a paused reader's listener would keep
    // it from flowing.
    await lines.return(undefined);
    discardRest(req.raw, DISCARD_AFTER_ERROR_BYTES);
    throw err;
  }
}
