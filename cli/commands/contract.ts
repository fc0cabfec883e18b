/**
 * `datactl contract set|get|delete REPO@BRANCH`: schema contracts that gate commits of Parquet
 * files on a branch (docs/parquet.md has the contract format and type names).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { fail } from '../../src/errors.js';
import type { ContractRule } from '../api-types.js';
import { formatTable, timeCell } from '../output.js';
import { parseBranchSpec } from '../refspec.js';
import { context } from './context.js';

export function registerContract(program: Command): void {
  const contract = program.command('contract').description('schema contracts that gate Parquet commits on a branch');

  contract
    .command('set')
    .description('add or replace the contract for a path glob (enforce: reject violating commits; warn: mark them)')
    .argument('<repo@branch>', 'the branch')
    .requiredOption('--path <glob>', 'files it applies to, e.g. "/train/*.parquet" (* within a segment, ** across)')
    .requiredOption('--mode <mode>', 'enforce or warn')
    .requiredOption('-f, --file <contract.json>', 'the contract: {"columns": {...}, "extraColumns": "allow"|"deny", "minRows": N}')
    .action(async (spec: string, opts: { path: string; mode: string; file: string }, cmd: Command) => {
      const ctx = context(cmd);
      const { repo, branch } = parseBranchSpec(spec, 'forbid');
      if (opts.mode !== 'enforce' && opts.mode !== 'warn') throw fail('E_INVALID_CONTRACT', `--mode must be "enforce" or "warn", not "${opts.mode}"`);
      const body = await readContractFile(opts.file);
      const rule = await (await ctx.client()).setContract(repo, branch, { path: opts.path, mode: opts.mode, contract: body });
      ctx.out.done(rule, () => `contract for ${rule.path} on ${repo}@${branch} set (${rule.mode})`);
    });

  contract
    .command('get')
    .description("show a branch's contracts (all, or the one for --path)")
    .argument('<repo@branch>', 'the branch')
    .option('--path <glob>', 'only the contract for this glob')
    .action(async (spec: string, opts: { path?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const { repo, branch } = parseBranchSpec(spec, 'forbid');
      const all = await (await ctx.client()).listContracts(repo, branch);
      const rules = opts.path === undefined ? all : all.filter((r) => r.path === opts.path);
      if (opts.path !== undefined && rules.length === 0) {
        throw fail('E_CONTRACT_NOT_FOUND', `no contract for ${opts.path} on branch "${branch}" of repo "${repo}"`);
      }
      ctx.out.result({ contracts: rules }, () => formatRules(rules));
    });

  contract
    .command('delete')
    .description('remove the contract for a path glob')
    .argument('<repo@branch>', 'the branch')
    .requiredOption('--path <glob>', 'the glob the contract was set for')
    .action(async (spec: string, opts: { path: string }, cmd: Command) => {
      const ctx = context(cmd);
      const { repo, branch } = parseBranchSpec(spec, 'forbid');
      await (await ctx.client()).deleteContract(repo, branch, opts.path);
      ctx.out.done({ repo, branch, path: opts.path, deleted: true }, () => `contract for ${opts.path} on ${repo}@${branch} deleted`);
    });
}

async function readContractFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw fail('E_BAD_REQUEST', `cannot read contract file ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw fail('E_INVALID_CONTRACT', `contract file ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of process.stdin) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function formatRules(rules: ContractRule[]): string {
  if (rules.length === 0) return 'no contracts';
  const table = formatTable(rules, [
    { header: 'PATH', value: (r) => r.path },
    { header: 'MODE', value: (r) => r.mode },
    { header: 'COLUMNS', value: (r) => Object.entries(r.contract.columns).map(([n, c]) => `${n}${c.type ? `:${c.type}` : ''}${c.nullable === false ? '!' : ''}`).join(' ') || '-' },
    { header: 'EXTRA', value: (r) => r.contract.extraColumns },
    { header: 'MIN ROWS', value: (r) => (r.contract.minRows === undefined ? '-' : String(r.contract.minRows)), align: 'right' },
    { header: 'UPDATED', value: (r) => timeCell(r.updatedAt) },
  ]);
  return `${table}\n(! = not null)`;
}
