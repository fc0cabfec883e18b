/**
 * Builds the JSON body of a delivery from its small queue record and immutable data (the commit
 * and the trees of it and its first parent). The same record always gives byte-identical JSON:
 * every object is written field by field in a fixed order, and nothing mutable is read.
 */
import { requireCommit } from '../meta/records.js';
import type { Commit } from '../objects/commit.js';
import type { EngineContext } from '../ops/context.js';
import { diffCommits, type DiffChange } from '../ops/diff.js';
import type { CommitId, RepoPath } from '../types.js';
import type { BranchEventPayload, ChangedPath, CommitEventPayload, EventPayload } from './payload.js';
import type { DeliveryRecord } from './types.js';

const LISTED_PATHS = 100;
const DIFF_PAGE = 10_000;
/** Counting stops here: a commit touching millions of files still gets a payload in bounded time. */
const MAX_COUNTED = 200_000;
const CACHED_BODIES = 256;

export interface BuiltPayload {
  payload: EventPayload;
  body: string;
}

export class PayloadBuilder {
  /** Recent bodies by delivery id: retries of a big commit do not re-walk its diff. */
  private readonly cache = new Map<string, BuiltPayload>();

  constructor(private readonly ctx: EngineContext) {}

  async build(record: DeliveryRecord): Promise<BuiltPayload> {
    const hit = this.cache.get(record.id);
    if (hit) return hit;
    const payload = record.event === 'commit' ? await this.commitPayload(record) : branchPayload(record);
    const built = { payload, body: JSON.stringify(payload) };
    this.cache.set(record.id, built);
    if (this.cache.size > CACHED_BODIES) this.cache.delete(this.cache.keys().next().value!);
    return built;
  }

  private async commitPayload(record: DeliveryRecord): Promise<CommitEventPayload> {
    const commit = await requireCommit(this.ctx.meta, record.repo, record.commit as CommitId);
    const parentId = commit.parents[0];
    const parent = parentId ? await requireCommit(this.ctx.meta, record.repo, parentId) : null;
    return {
      event: 'commit',
      deliveryId: record.id,
      repo: record.repo,
      branch: record.branch,
      commit: commitSummary(commit),
      changes: await summarizeChanges(this.ctx, parent, commit),
      pin: { repo: record.repo, branch: record.branch, commit: commit.id },
    };
  }
}

function branchPayload(record: DeliveryRecord): BranchEventPayload {
  return {
    event: record.event as BranchEventPayload['event'],
    deliveryId: record.id,
    repo: record.repo,
    branch: record.branch,
    head: record.head ?? null,
  };
}

/** Counts of added/modified/deleted files and the first paths, paging through the diff. */
export async function summarizeChanges(ctx: EngineContext, parent: Commit | null, commit: Commit): Promise<CommitEventPayload['changes']> {
  const counts = { added: 0, modified: 0, deleted: 0 };
  const paths: ChangedPath[] = [];
  let seen = 0;
  let cursor: string | undefined;
  do {
    const page = await diffCommits(ctx, parent, commit, '/' as RepoPath, { limit: DIFF_PAGE, cursor });
    for (const change of page.changes) {
      counts[change.type]++;
      if (paths.length < LISTED_PATHS) paths.push(changedPath(change));
    }
    seen += page.changes.length;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && seen < MAX_COUNTED);
  const summary: CommitEventPayload['changes'] = { ...counts, paths, truncated: seen > paths.length || cursor !== undefined };
  const schemaChanges = paths.filter((p) => p.schema?.hasSchemaChanges).length;
  if (schemaChanges > 0) summary.schemaChanges = schemaChanges;
  if (cursor !== undefined) summary.countsTruncated = true;
  return summary;
}

function commitSummary(commit: Commit): CommitEventPayload['commit'] {
  const out: CommitEventPayload['commit'] = { id: commit.id, parents: [...commit.parents], message: commit.message, author: commit.author, createdAt: commit.createdAt };
  const warnings = commit.metadata['contractWarnings'];
  if (Array.isArray(warnings) && warnings.length > 0) out.contractWarnings = warnings.map(String);
  return out;
}

function changedPath(c: DiffChange): ChangedPath {
  const out: ChangedPath = { type: c.type, path: c.path };
  if (c.size !== undefined) out.size = c.size;
  if (c.hash !== undefined) out.hash = c.hash;
  if (c.oldSize !== undefined) out.oldSize = c.oldSize;
  if (c.oldHash !== undefined) out.oldHash = c.oldHash;
  if (c.schema !== undefined) out.schema = c.schema;
  if (c.schemaError !== undefined) out.schemaError = c.schemaError;
  return out;
}
