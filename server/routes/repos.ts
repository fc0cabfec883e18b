import type { FastifyInstance } from 'fastify';
import { createBranch, deleteBranch, inspectBranch, listBranches } from '../../src/ops/branches.js';
import { createRepo, deleteRepo, inspectRepo, listRepos } from '../../src/ops/repos.js';
import { parseBranchName, parseRepoName } from '../../src/types.js';
import type { EngineContext } from '../../src/ops/context.js';
import { branchParam, optionalString, pageQuery, repoParam } from '../params.js';

export function repoRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.get('/v1/repos', async (req) => {
    const page = await listRepos(ctx, pageQuery(req.query));
    return { repos: page.items, nextCursor: page.nextCursor };
  });
  app.post('/v1/repos', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const repo = await createRepo(ctx, parseRepoName(body.name), optionalString(body, 'description') ?? '');
    return reply.status(201).send(repo);
  });
  app.get('/v1/repos/:repo', async (req) => inspectRepo(ctx, repoParam(req.params)));
  app.delete('/v1/repos/:repo', async (req, reply) => {
    await deleteRepo(ctx, repoParam(req.params));
    return reply.status(204).send();
  });

  app.get('/v1/repos/:repo/branches', async (req) => {
    const page = await listBranches(ctx, repoParam(req.params), pageQuery(req.query));
    return { branches: page.items, nextCursor: page.nextCursor };
  });
  app.post('/v1/repos/:repo/branches', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const branch = await createBranch(ctx, repoParam(req.params), parseBranchName(body.name), optionalString(body, 'head'));
    return reply.status(201).send(branch);
  });
  app.get('/v1/repos/:repo/branches/:branch', async (req) => inspectBranch(ctx, repoParam(req.params), branchParam(req.params)));
  app.delete('/v1/repos/:repo/branches/:branch', async (req, reply) => {
    await deleteBranch(ctx, repoParam(req.params), branchParam(req.params));
    return reply.status(204).send();
  });
}
