/** `datactl branch create|list|inspect|delete`. */
import type { Command } from 'commander';
import { parseRepoName } from '../../src/types.js';
import type { Branch } from '../api-types.js';
import { formatFields, formatTable, shortId, timeCell } from '../output.js';
import { parseExplicitBranchSpec, parseRef } from '../refspec.js';
import { context, positiveInt } from './context.js';

export function registerBranch(program: Command): void {
  const branch = program.command('branch').description('create, list, inspect and delete branches');

  branch
    .command('create')
    .description('create a branch, empty or at a ref')
    .argument('<repo@branch>', 'the new branch')
    .option('--head <ref>', 'start the branch at this commit, branch or relative ref (default: empty)')
    .action(async (spec: string, opts: { head?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const { repo, branch: name } = parseExplicitBranchSpec(spec);
      const head = opts.head === undefined ? undefined : parseRef(opts.head);
      const created = await (await ctx.client()).createBranch(repo, name, head);
      ctx.out.done(created, () => `created branch ${repo}@${created.name} at ${shortId(created.head)}`);
    });

  branch
    .command('list')
    .description("list a repo's branches")
    .argument('<repo>', 'repo name')
    .option('--limit <n>', 'at most this many', positiveInt('--limit'))
    .action(async (repoArg: string, opts: { limit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const repo = parseRepoName(repoArg);
      const client = await ctx.client();
      const { paginate } = await import('../client.js');
      const branches: Branch[] = [];
      const pages = paginate((p) => client.listBranches(repo, p), (p) => p.branches, { max: opts.limit });
      for await (const b of pages) branches.push(b);
      ctx.out.result({ branches }, () => formatBranches(branches));
    });

  branch
    .command('inspect')
    .description('show one branch')
    .argument('<repo@branch>', 'the branch')
    .action(async (spec: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { repo, branch: name } = parseExplicitBranchSpec(spec);
      const b = await (await ctx.client()).getBranch(repo, name);
      ctx.out.result(b, () =>
        formatFields([
          ['Branch', `${repo}@${b.name}`],
          ['Head', b.head ?? '(no commits)'],
          ['Created', timeCell(b.createdAt)],
        ]),
      );
    });

  branch
    .command('delete')
    .description('delete a branch (its commits stay reachable from other branches)')
    .argument('<repo@branch>', 'the branch')
    .action(async (spec: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { repo, branch: name } = parseExplicitBranchSpec(spec);
      await (await ctx.client()).deleteBranch(repo, name);
      ctx.out.done({ repo, deleted: name }, () => `deleted branch ${repo}@${name}`);
    });
}

function formatBranches(branches: Branch[]): string {
  return formatTable(branches, [
    { header: 'BRANCH', value: (b) => b.name },
    { header: 'HEAD', value: (b) => shortId(b.head) },
    { header: 'CREATED', value: (b) => timeCell(b.createdAt) },
  ]);
}
