/** `datactl put file REPO@BRANCH[:/PATH] -f LOCAL [-f LOCAL...] [-r] [-m MSG] [--author NAME]`. */
import type { Command } from 'commander';
import { fail } from '../../src/errors.js';
import { formatBytes } from '../progress.js';
import { parseBranchSpec } from '../refspec.js';
import type { PutFilesResult } from '../transfer/put.js';
import { collect, context, nonBlank } from './context.js';

interface PutOptions {
  file?: string[];
  recursive?: boolean;
  message?: string;
  author?: string;
  /** false with --no-index. */
  index?: boolean;
}

export function registerPut(program: Command): void {
  const put = program.command('put').description('add or replace data in a branch');

  put
    .command('file')
    .description('upload local files as one commit (only chunks the server lacks are sent)')
    .argument('<repo@branch[:/path]>', 'destination; a trailing "/" or several sources make PATH a directory')
    .option('-f, --file <local>', 'a local file, a directory (with -r), or "-" for stdin; repeatable', collect)
    .option('-r, --recursive', 'upload directories recursively')
    .option('-m, --message <msg>', 'commit message')
    .option('--author <name>', 'commit author (default: $DATACTL_AUTHOR or your user name)', nonBlank('--author'))
    .option('--no-index', 'read every file (the put index otherwise skips files unchanged since the last put), and record nothing')
    .addHelpText(
      'after',
      `
Examples:
  datactl put file images@main:/data/x.csv -f local.csv     # -> /data/x.csv
  datactl put file images@main:/data -r -f dir               # dir/a/b -> /data/a/b
  datactl put file images@main -f local.csv                  # -> /local.csv
  cat x.csv | datactl put file images@main:/x.csv -f -`,
    )
    .action(async (spec: string, opts: PutOptions, cmd: Command) => {
      const ctx = context(cmd);
      if (!opts.file?.length) throw fail('E_BAD_REQUEST', 'put file needs at least one -f LOCAL (use "-" for stdin)');
      const dest = parseBranchSpec(spec);
      const [client, { putFiles }] = await Promise.all([ctx.client(), import('../transfer/put.js')]);
      const bar = ctx.progress('put');
      try {
        const result = await putFiles(client, {
          repo: dest.repo,
          branch: dest.branch,
          ...(dest.path !== undefined ? { path: dest.pathIsDir && dest.path !== '/' ? `${dest.path}/` : dest.path } : {}),
          sources: opts.file,
          recursive: opts.recursive === true,
          ...(opts.message !== undefined ? { message: opts.message } : {}),
          ...(opts.author !== undefined ? { author: opts.author } : {}),
          ...(opts.index === false ? { index: false as const } : {}),
          progress: bar,
          onSkip: (local, why) => ctx.out.warn(`skipped ${local}: ${why}`),
        });
        bar.end();
        ctx.out.done(result, () => describePut(result));
      } finally {
        bar.end();
      }
    });
}

export function describePut(r: PutFilesResult): string {
  const what = `${r.files} file${r.files === 1 ? '' : 's'}, ${formatBytes(r.bytes)}`;
  if (!r.created) return `no changes to ${r.repo}@${r.branch} (${what})`;
  const sent = `${formatBytes(r.uploadedBytes)} uploaded in ${r.uploadedChunks} of ${r.chunks} chunks`;
  return `committed ${r.commit?.slice(0, 12)} to ${r.repo}@${r.branch}: ${what}; ${sent}`;
}
