/** `datactl pull --file FILE --key KEY [-o DIR] [--delete] [PATH...]`: fetch exactly the pinned commit. */
import type { Command } from 'commander';
import { formatBytes } from '../progress.js';
import { shortId } from '../output.js';
import { context } from './context.js';

interface PullCommandOptions {
  file: string;
  key: string;
  output?: string;
  delete?: boolean;
  allowBranch?: boolean;
  cache?: string;
}

export function registerPull(program: Command): void {
  program
    .command('pull')
    .description('download the files of a pinned commit, verified, reusing a local content cache')
    .argument('[paths...]', 'repo paths (files or directories) to fetch; default: all')
    .requiredOption('--file <path>', 'the pin file, e.g. configuration/data.json')
    .requiredOption('--key <key>', 'the pin to use, e.g. train')
    .option('-o, --output <dir>', 'write files here, at their repo paths (default: .)')
    .option('--delete', 'remove files in the pulled directories that the commit does not have (needs -o)')
    .option('--allow-branch', 'accept a pin that names only a branch: use its head as it is now')
    .option('--cache <dir>', 'content cache (env DATACTL_CACHE_DIR, default ~/.cache/datactl)')
    .action(async (paths: string[], opts: PullCommandOptions, cmd: Command) => {
      const ctx = context(cmd);
      const [client, { pull }] = await Promise.all([ctx.client(), import('../transfer/pull.js')]);
      const bar = ctx.progress('pull');
      try {
        const result = await pull(client, {
          file: opts.file,
          key: opts.key,
          ...(opts.output !== undefined ? { output: opts.output } : {}),
          delete: opts.delete === true,
          paths: paths.length > 0 ? paths : ['/'],
          allowBranch: opts.allowBranch === true,
          ...(opts.cache !== undefined ? { cacheDir: opts.cache } : {}),
          progress: bar,
          onWarning: (message) => ctx.out.warn(message),
        });
        bar.end();
        if (result.resolvedFromBranch) {
          ctx.out.warn(`pin ${JSON.stringify(opts.key)} names only branch ${result.branch}; used its current head ${result.commit}`);
        }
        const { commit, files, bytes, downloadedBytes, cachedFiles, extraFiles } = result;
        if (extraFiles > 0 && !opts.delete) {
          ctx.out.warn(`${extraFiles} file${extraFiles === 1 ? '' : 's'} in ${result.output} ${extraFiles === 1 ? 'is' : 'are'} not in the commit and ${extraFiles === 1 ? 'was' : 'were'} left alone (--delete removes them)`);
        }
        ctx.out.done(result, () =>
          [
            `pulled ${result.repo}@${shortId(commit)} into ${result.output}: ${files} file${files === 1 ? '' : 's'} (${formatBytes(bytes)});`,
            `downloaded ${result.downloadedFiles} (${formatBytes(downloadedBytes)}), ${cachedFiles} from cache, ${result.upToDateFiles} already up to date`
              + (result.removedFiles > 0 ? `; removed ${result.removedFiles} not in the commit` : ''),
          ].join(' '),
        );
      } finally {
        bar.end();
      }
    });
}
