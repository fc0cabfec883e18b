import type { FastifyInstance } from 'fastify';
import { requireFile, resolveAt, viewEntry } from '../../src/ops/browse.js';
import type { EngineContext } from '../../src/ops/context.js';
import { deleteContract, listContracts, parseRule, setContract } from '../../src/ops/contracts.js';
import { isParquetPath, parquetInfoByRef } from '../../src/ops/parquet-info.js';
import { branchParam, pathQuery, refParam, repoParam, stringField } from '../params.js';

export function parquetRoutes(app: FastifyInstance, ctx: EngineContext): void {
  // A file with what datactl knows about its content: for Parquet, schema, rows and statistics.
  app.get('/v1/repos/:repo/commits/:ref/inspect', async (req) => {
    const repo = repoParam(req.params);
    const path = pathQuery(req.query);
    const commit = await resolveAt(ctx, repo, refParam(req.params));
    const entry = await requireFile(ctx, commit, path);
    const view = await viewEntry(ctx, entry, path, false);
    if (!isParquetPath(path)) return { commit: commit.id, entry: view, parquet: null };
    return { commit: commit.id, entry: view, parquet: await parquetInfoByRef(ctx, entry) };
  });

  app.get('/v1/repos/:repo/branches/:branch/contracts', async (req) => {
    return { contracts: await listContracts(ctx, repoParam(req.params), branchParam(req.params)) };
  });

  app.put('/v1/repos/:repo/branches/:branch/contracts', async (req) => {
    const rule = parseRule((req.body ?? {}) as Record<string, unknown>);
    return setContract(ctx, repoParam(req.params), branchParam(req.params), rule);
  });

  app.delete('/v1/repos/:repo/branches/:branch/contracts', async (req, reply) => {
    await deleteContract(ctx, repoParam(req.params), branchParam(req.params), stringField(req.query as Record<string, unknown>, 'path'));
    return reply.status(204).send();
  });
}
