/** `datactl inspect commit REPO@REF` and `datactl inspect file REPO@REF:/PATH`. */
import type { Command } from 'commander';
import type { Commit, StatResult } from '../api-types.js';
import { formatParquet } from '../format-parquet.js';
import { formatFields, shortId, timeCell } from '../output.js';
import { formatBytes } from '../progress.js';
import { parseRefSpec } from '../refspec.js';
import { context } from './context.js';

export function registerInspect(program: Command): void {
  const inspect = program.command('inspect').description('show details of a commit or a file');

  inspect
    .command('commit')
    .description('show a commit (REF may be a branch, a commit id prefix, with ~N or ^)')
    .argument('<repo@ref>', 'the commit')
    .action(async (specArg: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { repo, ref } = parseRefSpec(specArg, 'forbid');
      const commit = await (await ctx.client()).getCommit(repo, ref);
      ctx.out.result(commit, () => formatCommit(commit));
    });

  inspect
    .command('file')
    .description('show a file or directory entry at a commit; for Parquet files, schema, rows and statistics')
    .argument('<repo@ref:/path>', 'the path')
    .action(async (specArg: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { repo, ref, path } = parseRefSpec(specArg, 'require');
      const client = await ctx.client();
      const stat = await client.stat(repo, ref, path!);
      if (stat.entry.type !== 'file') return ctx.out.result(stat, () => formatStat(stat));
      const { parquet } = await client.inspectFile(repo, ref, path!);
      const result = { ...stat, parquet };
      ctx.out.result(result, () => (parquet ? `${formatStat(stat)}\n\n${formatParquet(parquet)}` : formatStat(stat)));
    });
}

function formatCommit(c: Commit): string {
  const metadata = Object.keys(c.metadata ?? {}).length > 0 ? JSON.stringify(c.metadata) : '-';
  return formatFields([
    ['Commit', c.id],
    ['Repo', c.repo],
    ['Parents', c.parents.length > 0 ? c.parents.join(', ') : '(none)'],
    ['Tree', c.tree],
    ['Author', c.author],
    ['Created', timeCell(c.createdAt)],
    ['Metadata', metadata],
    ['Message', c.message],
  ]);
}

function formatStat({ commit, entry }: StatResult): string {
  const fields: [string, string][] = [
    ['Path', entry.path],
    ['Type', entry.type],
    ['Size', `${formatBytes(entry.size)} (${entry.size} bytes)`],
  ];
  if (entry.type === 'file') {
    fields.push(['Hash', entry.hash], ['Chunks', String(entry.chunks?.length ?? '-')]);
  }
  fields.push(['Commit', shortId(commit)]);
  return formatFields(fields);
}
