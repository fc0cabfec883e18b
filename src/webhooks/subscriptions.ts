/**
 * Subscriptions in LevelDB (`w:<repo>:<id>`) with an in-memory mirror. The commit path needs them
 * synchronously (onCommitOps runs inside the repo lock, between building and writing the batch),
 * and the server is the only process using the metadata store, so the mirror is loaded once at
 * startup and updated after every durable subscription write.
 */
import { keys } from '../meta/keys.js';
import type { MetaOp, MetaStore } from '../meta/meta-store.js';
import type { RepoName } from '../types.js';
import type { Subscription } from './types.js';

export class SubscriptionCache {
  private readonly byRepo = new Map<RepoName, Map<string, Subscription>>();

  async load(meta: MetaStore): Promise<void> {
    this.byRepo.clear();
    for await (const [, value] of meta.entries(keys.allWebhooksRange())) this.remember(JSON.parse(value) as Subscription);
  }

  /** Subscriptions of a repo, oldest first (ids break ties), so listings are stable. */
  forRepo(repo: RepoName): Subscription[] {
    const subs = [...(this.byRepo.get(repo)?.values() ?? [])];
    return subs.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  all(): Subscription[] {
    return [...this.byRepo.values()].flatMap((m) => [...m.values()]);
  }

  get(repo: RepoName, id: string): Subscription | undefined {
    return this.byRepo.get(repo)?.get(id);
  }

  /** Call only after the record is durable. */
  remember(sub: Subscription): void {
    let subs = this.byRepo.get(sub.repo);
    if (!subs) this.byRepo.set(sub.repo, (subs = new Map()));
    subs.set(sub.id, sub);
  }

  forget(repo: RepoName, id: string): void {
    const subs = this.byRepo.get(repo);
    subs?.delete(id);
    if (subs?.size === 0) this.byRepo.delete(repo);
  }
}

export function putSubscriptionOp(sub: Subscription): MetaOp {
  return { type: 'put', key: keys.webhook(sub.repo, sub.id), value: JSON.stringify(sub) };
}
