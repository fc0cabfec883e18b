/** API shapes of engine records (what clients see), kept apart from storage shapes. */
import type { Commit } from '../src/objects/commit.js';
import type { RepoName } from '../src/types.js';
import { redactCredentials } from '../src/webhooks/redact.js';
import type { DeliveryRecord, Subscription } from '../src/webhooks/types.js';

export function commitView(repo: RepoName, c: Commit) {
  return { id: c.id, repo, parents: c.parents, tree: c.tree, author: c.author, message: c.message, createdAt: c.createdAt, metadata: c.metadata };
}

/** A subscription as clients see it: the secret is write-only, URLs lose their credentials. */
export function subscriptionView(s: Subscription) {
  const target =
    s.target.type === 'http'
      ? { type: 'http' as const, url: redactCredentials(s.target.url), hasSecret: s.target.secret !== null }
      : { type: 'git' as const, git: { ...s.target.git, url: redactCredentials(s.target.git.url) } };
  return { id: s.id, repo: s.repo, ...target, branches: s.branches, events: s.events, active: s.active, createdAt: s.createdAt, updatedAt: s.updatedAt };
}

export function deliveryView(r: DeliveryRecord) {
  return {
    id: r.id,
    event: r.event,
    repo: r.repo,
    branch: r.branch,
    ...(r.event === 'commit' ? { commit: r.commit } : { head: r.head ?? null }),
    status: r.status,
    attempts: r.attempts,
    lastStatusCode: r.lastStatusCode ?? null,
    lastError: r.lastError ?? null,
    lastResult: r.lastResult ?? null,
    lastLatencyMs: r.lastLatencyMs ?? null,
    createdAt: r.createdAt,
    lastAttemptAt: r.lastAttemptAt ?? null,
    nextAttemptAt: r.nextAttemptAt ?? null,
    deliveredAt: r.deliveredAt ?? null,
    redeliveries: r.redeliveries ?? 0,
  };
}
