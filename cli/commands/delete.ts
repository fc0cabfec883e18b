/** `datactl delete file REPO@BRANCH:/PATH [-m MSG] [--author NAME]`. */
import type { Command } from 'commander';
import { defaultAuthor } from '../defaults.js';
import { parseBranchSpec } from '../refspec.js';
import { context, nonBlank } from './context.js';

export function registerDelete(program: Command): void {
  const del = program.command('delete').description('remove data from a branch');

  del
    .command('file')
    .description('delete a file or a whole directory, as one commit')
    .argument('<repo@branch:/path>', 'what to delete')
    .option('-m, --message <msg>', 'commit message')
    .option('--author <name>', 'commit author (default: $DATACTL_AUTHOR or your user name)', nonBlank('--author'))
    .action(async (specArg: string, opts: { message?: string; author?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const { repo, branch, path } = parseBranchSpec(specArg, 'require');
      const result = await (await ctx.client()).deleteFile(repo, branch, path!, {
        message: opts.message ?? `delete ${path}`,
        author: opts.author ?? defaultAuthor(),
      });
      const commit = result.commit?.id ?? null;
      const value = { repo, branch, path, commit, created: result.created };
      ctx.out.done(value, () =>
        result.created ? `deleted ${path} in ${repo}@${branch}: commit ${commit?.slice(0, 12)}` : `no changes to ${repo}@${branch}`,
      );
    });
}
