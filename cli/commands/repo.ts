/** `datactl repo create|list|inspect|delete`. */
import type { Command } from 'commander';
import { parseRepoName } from '../../src/types.js';
import type { Repo } from '../api-types.js';
import { formatFields, formatTable, timeCell } from '../output.js';
import { context, positiveInt } from './context.js';

export function registerRepo(program: Command): void {
  const repo = program.command('repo').description('create, list, inspect and delete repos');

  repo
    .command('create')
    .description('create a repo')
    .argument('<name>', 'repo name')
    .option('-d, --description <text>', 'a description')
    .action(async (name: string, opts: { description?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const created = await (await ctx.client()).createRepo(parseRepoName(name), opts.description);
      ctx.out.done(created, () => `created repo ${created.name}`);
    });

  repo
    .command('list')
    .description('list repos')
    .option('--limit <n>', 'at most this many', positiveInt('--limit'))
    .action(async (opts: { limit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const { paginate } = await import('../client.js');
      const repos: Repo[] = [];
      for await (const r of paginate((p) => client.listRepos(p), (p) => p.repos, { max: opts.limit })) repos.push(r);
      ctx.out.result({ repos }, () => formatRepos(repos));
    });

  repo
    .command('inspect')
    .description('show one repo')
    .argument('<name>', 'repo name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const r = await (await ctx.client()).getRepo(parseRepoName(name));
      ctx.out.result(r, () =>
        formatFields([
          ['Name', r.name],
          ['Description', r.description || '-'],
          ['Created', timeCell(r.createdAt)],
          ['Branches', String(r.branches)],
        ]),
      );
    });

  repo
    .command('delete')
    .description('delete a repo and all its branches and commits')
    .argument('<name>', 'repo name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const repoName = parseRepoName(name);
      await (await ctx.client()).deleteRepo(repoName);
      ctx.out.done({ deleted: repoName }, () => `deleted repo ${repoName}`);
    });
}

function formatRepos(repos: Repo[]): string {
  return formatTable(repos, [
    { header: 'NAME', value: (r) => r.name },
    { header: 'CREATED', value: (r) => timeCell(r.createdAt) },
    { header: 'BRANCHES', value: (r) => String(r.branches), align: 'right' },
    { header: 'DESCRIPTION', value: (r) => r.description },
  ]);
}
