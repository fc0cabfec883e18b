/**
 * Schema contracts per branch and path glob, and the commit-time gate: every Parquet file a commit
 * puts (and every file matching a contract glob) is checked; `enforce` violations reject the
 * commit, `warn` violations are recorded in the commit's metadata (and so in its events).
 */
import { fail } from '../errors.js';
import { keys } from '../meta/keys.js';
import type { MetaOp } from '../meta/meta-store.js';
import { requireBranch, requireRepo } from '../meta/records.js';
import { manifestId, type Manifest } from '../objects/manifest.js';
import { checkContract, globMatch, parseContract, type SchemaContract } from '../parquet/index.js';
import type { BranchName, RepoName } from '../types.js';
import type { EngineContext } from './context.js';
import { isParquetPath, parquetInfoFor, parquetInfoOp } from './parquet-info.js';

export type ContractMode = 'enforce' | 'warn';

export interface ContractRule {
  path: string;
  mode: ContractMode;
  contract: SchemaContract;
  updatedAt: string;
}

const GLOB_RE = /^\/[^\x00-\x1f\\]{0,1023}$/;

export function parseRule(body: { path?: unknown; mode?: unknown; contract?: unknown }): Omit<ContractRule, 'updatedAt'> {
  if (typeof body.path !== 'string' || !GLOB_RE.test(body.path)) {
    throw fail('E_INVALID_CONTRACT', `contract path must be a glob starting with "/", e.g. "/train/*.parquet"; got ${JSON.stringify(body.path)}`);
  }
  if (body.mode !== 'enforce' && body.mode !== 'warn') throw fail('E_INVALID_CONTRACT', `contract mode must be "enforce" or "warn"; got ${JSON.stringify(body.mode)}`);
  try {
    return { path: body.path, mode: body.mode, contract: parseContract(body.contract) };
  } catch (err) {
    throw fail('E_INVALID_CONTRACT', (err as Error).message);
  }
}

export async function setContract(ctx: EngineContext, repo: RepoName, branch: BranchName, rule: Omit<ContractRule, 'updatedAt'>): Promise<ContractRule> {
  await requireRepo(ctx.meta, repo);
  await requireBranch(ctx.meta, repo, branch);
  const stored: ContractRule = { ...rule, updatedAt: ctx.now().toISOString() };
  await ctx.meta.batch([{ type: 'put', key: keys.contract(repo, branch, rule.path), value: JSON.stringify(stored) }], { sync: true });
  return stored;
}

export async function listContracts(ctx: EngineContext, repo: RepoName, branch: BranchName): Promise<ContractRule[]> {
  await requireRepo(ctx.meta, repo);
  const rules: ContractRule[] = [];
  for await (const [, value] of ctx.meta.entries(keys.contractRange(repo, branch))) rules.push(JSON.parse(value) as ContractRule);
  return rules;
}

export async function deleteContract(ctx: EngineContext, repo: RepoName, branch: BranchName, glob: string): Promise<void> {
  await requireRepo(ctx.meta, repo);
  const key = keys.contract(repo, branch, glob);
  if ((await ctx.meta.get(key)) === undefined) {
    throw fail('E_CONTRACT_NOT_FOUND', `no contract for ${glob} on branch "${branch}" of repo "${repo}"`, { repo, branch, path: glob });
  }
  await ctx.meta.batch([{ type: 'del', key }], { sync: true });
}

export interface GateResult {
  /** Parquet metadata records to write with the commit. */
  ops: MetaOp[];
  /** Violations of `warn` contracts, file by file. */
  warnings: string[];
}

/** Inspect the Parquet files a commit puts and apply the branch's contracts. */
export async function gateCommit(
  ctx: EngineContext, repo: RepoName, branch: BranchName, puts: ReadonlyArray<{ path: string; manifest: Manifest }>,
): Promise<GateResult> {
  const rules = await listContracts(ctx, repo, branch);
  const result: GateResult = { ops: [], warnings: [] };
  const violations: string[] = [];
  for (const put of puts) {
    const matching = rules.filter((r) => globMatch(r.path, put.path));
    if (!isParquetPath(put.path) && matching.length === 0) continue;
    const id = manifestId(put.manifest);
    const { info, fresh } = await parquetInfoFor(ctx, id, put.manifest);
    if (fresh) result.ops.push(parquetInfoOp(id, info));
    for (const rule of matching) {
      const found = checkContract(rule.contract, info, put.path);
      (rule.mode === 'enforce' ? violations : result.warnings).push(...found);
    }
  }
  if (violations.length > 0) {
    throw fail('E_CONTRACT_VIOLATION', `commit rejected by schema contracts on branch "${branch}":\n${violations.map((v) => `  ${v}`).join('\n')}`, {
      violations,
    });
  }
  return result;
}
