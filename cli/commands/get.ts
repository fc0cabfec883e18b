/** `datactl get file REPO@REF:/PATH [-o OUT] [-r]`. */
import type { Command } from 'commander';
import { fail } from '../../src/errors.js';
import { formatBytes } from '../progress.js';
import { parseRefSpec } from '../refspec.js';
import { context } from './context.js';

interface GetOptions {
  output?: string;
  recursive?: boolean;
  fsync?: boolean;
  directIo: boolean;
}

export function registerGet(program: Command, env: NodeJS.ProcessEnv = process.env): void {
  const get = program.command('get').description('download data, verified against its hashes');

  get
    .command('file')
    .description('download a file (to stdout without -o) or, with -r, a directory')
    .argument('<repo@ref:/path>', 'what to fetch; REF may be a branch, a commit id (prefix), with ~N or ^')
    .option('-o, --output <path>', 'write here (a directory\'s contents go under it); "-" is stdout')
    .option('-r, --recursive', 'download a directory recursively')
    .option('--fsync', 'fsync each file before renaming it into place (durable across a power loss; slower)')
    .option('--no-direct-io', 'write files of 64 MiB and more through the page cache, not with O_DIRECT (env DATACTL_DIRECT_IO=0)')
    .action(async (spec: string, opts: GetOptions, cmd: Command) => {
      const ctx = context(cmd);
      const src = parseRefSpec(spec, 'require');
      if (opts.output === '-') {
        // Without this, a directory (-r) would go to ./<its name>, over whatever is there.
        if (opts.recursive) throw fail('E_BAD_REQUEST', '-o - streams one file to stdout; a directory (-r) needs -o DIR');
        delete opts.output;
      }
      if (ctx.options.json && opts.output === undefined && !opts.recursive) {
        throw fail('E_BAD_REQUEST', '--json needs -o: without it the file itself goes to stdout');
      }
      const [client, { getFiles }] = await Promise.all([ctx.client(), import('../transfer/get.js')]);
      const bar = ctx.progress('get');
      try {
        const result = await getFiles(client, {
          repo: src.repo,
          ref: src.ref,
          path: src.path!,
          ...(opts.output !== undefined ? { output: opts.output } : {}),
          recursive: opts.recursive === true,
          fsync: opts.fsync === true,
          directIo: opts.directIo && env['DATACTL_DIRECT_IO'] !== '0',
          progress: bar,
        });
        bar.end();
        if (result.output === null) return; // the data itself went to stdout
        ctx.out.done(result, () =>
          `wrote ${result.files} file${result.files === 1 ? '' : 's'} (${formatBytes(result.bytes)}) to ${result.output} from commit ${result.commit.slice(0, 12)}`,
        );
      } finally {
        bar.end();
      }
    });
}
