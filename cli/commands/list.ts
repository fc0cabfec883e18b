/** `datactl list file REPO@REF[:/DIR]` and `datactl list commit REPO[@REF]`. */
import type { Command } from 'commander';
import { DatactlError } from '../../src/errors.js';
import type { Commit, Entry } from '../api-types.js';
import type { DatactlClient } from '../client.js';
import { formatTable, moreNote, shortId, sizeCell, timeCell } from '../output.js';
import { parseRefSpec, type RefSpec } from '../refspec.js';
import { context, positiveInt } from './context.js';

export function registerList(program: Command): void {
  const list = program.command('list').description('list files or commits');

  list
    .command('file')
    .description('list a directory (or show one file) at a commit')
    .argument('<repo@ref[:/dir]>', 'where to look (default dir: /)')
    .option('--limit <n>', 'at most this many entries', positiveInt('--limit'))
    .action(async (specArg: string, opts: { limit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const spec = parseRefSpec(specArg);
      const listing = await listEntries(await ctx.client(), spec, opts.limit);
      ctx.out.result(listing, () => formatEntries(listing.entries) + moreNote(listing.truncated, 'entries'));
    });

  list
    .command('commit')
    .description('first-parent history, newest first')
    .argument('<repo[@ref]>', 'where to start (default: main)')
    .option('--limit <n>', 'at most this many commits', positiveInt('--limit'))
    .action(async (specArg: string, opts: { limit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const { repo, ref } = parseRefSpec(specArg, 'forbid');
      const client = await ctx.client();
      const { paginate, upTo } = await import('../client.js');
      const { items: commits, truncated } = await upTo((max) => paginate((p) => client.listCommits(repo, { ...p, ref }), (p) => p.commits, { max }), opts.limit);
      ctx.out.result({ commits, ...(truncated ? { truncated } : {}) }, () => formatCommits(commits) + moreNote(truncated, 'commits'));
    });
}

interface Listing {
  commit: string;
  path: string;
  entries: Entry[];
  /** Present (true) when --limit cut the listing short. */
  truncated?: true;
}

/** Page through a directory; a path naming a file lists just that file. */
async function listEntries(client: DatactlClient, spec: RefSpec, limit: number | undefined): Promise<Listing> {
  const { paginate, upTo } = await import('../client.js');
  const path = spec.path ?? '/';
  let commit = '';
  try {
    const fetchPage = async (p: { limit?: number; cursor?: string }) => {
      const page = await client.listTree(spec.repo, commit || spec.ref, { ...p, path });
      commit = page.commit; // later pages read the same commit even if the branch moves
      return page;
    };
    const { items: entries, truncated } = await upTo((max) => paginate(fetchPage, (p) => p.entries, { max }), limit);
    return { commit, path, entries, ...(truncated ? { truncated } : {}) };
  } catch (err) {
    if (!(err instanceof DatactlError && err.code === 'E_NOT_A_DIRECTORY')) throw err;
    const stat = await client.stat(spec.repo, spec.ref, path);
    return { commit: stat.commit, path, entries: [stat.entry] };
  }
}

function formatEntries(entries: Entry[]): string {
  return formatTable(entries, [
    { header: 'NAME', value: (e) => (e.type === 'dir' ? `${e.name}/` : e.name) },
    { header: 'TYPE', value: (e) => e.type },
    { header: 'SIZE', value: (e) => sizeCell(e.size), align: 'right' },
    { header: 'HASH', value: (e) => (e.type === 'file' ? shortId(e.hash) : '-') },
  ]);
}

export function firstLine(text: string, max = 60): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function formatCommits(commits: Commit[]): string {
  return formatTable(commits, [
    { header: 'COMMIT', value: (c) => shortId(c.id) },
    { header: 'CREATED', value: (c) => timeCell(c.createdAt) },
    { header: 'AUTHOR', value: (c) => c.author },
    { header: 'MESSAGE', value: (c) => firstLine(c.message) },
  ]);
}
