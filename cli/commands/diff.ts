/** `datactl diff REPO@REF1 REPO@REF2 [--path P]`. */
import type { Command } from 'commander';
import { fail } from '../../src/errors.js';
import { parseRepoPath } from '../../src/types.js';
import type { Change } from '../api-types.js';
import { formatSchemaChange } from '../format-parquet.js';
import { formatTable, moreNote, sizeCell } from '../output.js';
import { parseRefSpec } from '../refspec.js';
import { context, positiveInt } from './context.js';

const MARK: Record<Change['type'], string> = { added: 'A', modified: 'M', deleted: 'D' };

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('changed files between two commits of a repo, by path')
    .argument('<repo@from>', 'the older side')
    .argument('<repo@to>', 'the newer side')
    .option('--path <dir>', 'only changes under this path', '/')
    .option('--limit <n>', 'at most this many changes', positiveInt('--limit'))
    .action(async (fromArg: string, toArg: string, opts: { path: string; limit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const from = parseRefSpec(fromArg, 'forbid');
      const to = parseRefSpec(toArg, 'forbid');
      if (from.repo !== to.repo) throw fail('E_BAD_REQUEST', `diff compares two refs of one repo, got ${from.repo} and ${to.repo}`);
      const path = parseRepoPath(opts.path);
      const client = await ctx.client();
      const { paginate, upTo } = await import('../client.js');
      const ids = { from: '', to: '' };
      const fetchPage = async (p: { limit?: number; cursor?: string }) => {
        // Pin later pages to the commits the first page resolved.
        const page = await client.diff(from.repo, { ...p, from: ids.from || from.ref, to: ids.to || to.ref, path });
        Object.assign(ids, { from: page.from, to: page.to });
        return page;
      };
      const { items: changes, truncated } = await upTo((max) => paginate(fetchPage, (p) => p.changes, { max }), opts.limit);
      ctx.out.result({ ...ids, changes, ...(truncated ? { truncated } : {}) }, () =>
        changes.length === 0 ? 'no changes' : formatChanges(changes) + moreNote(truncated, 'changes'));
    });
}

function formatChanges(changes: Change[]): string {
  const table = formatTableOf(changes);
  const schema = changes.flatMap((c) => {
    if (c.schemaError) return [`${c.path}: not readable as Parquet: ${c.schemaError}`];
    const lines = c.schema && c.type === 'modified' ? formatSchemaChange(c.schema) : [];
    return lines.length > 0 ? [`${c.path}:`, ...lines.map((l) => `  ${l}`)] : [];
  });
  return schema.length > 0 ? `${table}\n\nSchema changes:\n${schema.join('\n')}` : table;
}

function formatTableOf(changes: Change[]): string {
  return formatTable(changes, [
    { header: '', value: (c) => MARK[c.type] },
    { header: 'PATH', value: (c) => c.path },
    { header: 'SIZE', value: (c) => sizeChange(c), align: 'right' },
  ]);
}

function sizeChange(c: Change): string {
  if (c.type === 'deleted') return sizeCell(c.oldSize ?? c.size);
  if (c.type === 'modified' && c.oldSize !== undefined) return `${sizeCell(c.oldSize)} -> ${sizeCell(c.size)}`;
  return sizeCell(c.size);
}
