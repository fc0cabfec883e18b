/**
 * Schema contracts per branch and path glob, and the commit-time gate: every Parquet file a commit
 * puts (and every file matching a contract glob) is checked; `enforce` violations reject the
 * commit, `warn` violations are recorded in the commit's metadata (and so in its events).
 */
import { fail } from '../errors.js';
import { keys } from '../meta/keys.js';
import type { MetaOp } from '../meta/meta-store.js';
import { requireBranch, requireRepo } from '../meta/records.js';
import type { Manifest } from '../objects/manifest.js';
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

/** A put the gate may inspect: its manifest id is computed once, by the commit. */
export interface GatedPut {
  path: string;
  manifestId: string;
  manifest: Manifest;
}

/** Findings listed per commit; past this only a count, so 100k bad files give a readable error. */
const MAX_LISTED_FINDINGS = 1000;

/**
 * The commit-time gate, fed group by group as a commit's changes stream in. Only Parquet paths and
 * paths matching a contract glob are inspected (from the footer, or the `q:` record of content seen
 * before), so what it keeps is the findings, never the puts.
 */
export class ContractGate {
  private readonly violations = new Findings();
  private readonly warnings = new Findings();

  private constructor(
    private readonly ctx: EngineContext,
    private readonly branch: BranchName,
    private readonly rules: readonly ContractRule[],
  ) {}

  static async open(ctx: EngineContext, repo: RepoName, branch: BranchName): Promise<ContractGate> {
    return new ContractGate(ctx, branch, await listContracts(ctx, repo, branch));
  }

  /** Check one group of puts (their chunks must be present); returns the Parquet metadata records to write. */
  async check(puts: Iterable<GatedPut>): Promise<MetaOp[]> {
    const ops: MetaOp[] = [];
    for (const put of puts) {
      const matching = this.rules.filter((r) => globMatch(r.path, put.path));
      if (!isParquetPath(put.path) && matching.length === 0) continue;
      const { info, fresh } = await parquetInfoFor(this.ctx, put.manifestId, put.manifest);
      if (fresh) ops.push(parquetInfoOp(put.manifestId, info));
      for (const rule of matching) {
        (rule.mode === 'enforce' ? this.violations : this.warnings).add(checkContract(rule.contract, info, put.path));
      }
    }
    return ops;
  }

  /** Throws E_CONTRACT_VIOLATION for any `enforce` violation; otherwise the `warn` findings for the commit's metadata. */
  finish(): string[] {
    const violations = this.violations.list();
    if (violations.length > 0) {
      throw fail('E_CONTRACT_VIOLATION', `commit rejected by schema contracts on branch "${this.branch}":\n${violations.map((v) => `  ${v}`).join('\n')}`, {
        violations,
      });
    }
    return this.warnings.list();
  }
}

class Findings {
  private readonly listed: string[] = [];
  private more = 0;

  add(found: readonly string[]): void {
    for (const f of found) {
      if (this.listed.length < MAX_LISTED_FINDINGS) this.listed.push(f);
      else this.more++;
    }
  }

  list(): string[] {
    return this.more > 0 ? [...this.listed, `... and ${this.more} more`] : this.listed;
  }
}
