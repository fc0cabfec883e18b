/**
 * The webhooks module assembled: the subscription cache and outbox (wired into the engine's
 * write path by openEngine) and the dispatcher (started by the server, stopped on close).
 */
import type { EngineContext, EngineOptions } from '../ops/context.js';
import type { RepoName } from '../types.js';
import { datactlVersion } from '../version.js';
import { PayloadBuilder } from './build-payload.js';
import { scanQueue } from './deliveries.js';
import { Dispatcher, type WebhookLogger } from './dispatcher.js';
import { dropSubscription, type ManageDeps } from './manage.js';
import { Outbox } from './outbox.js';
import { SubscriptionCache } from './subscriptions.js';
import { GitPinTarget, type PinBumperLike } from './targets/git.js';
import { HttpTarget } from './targets/http.js';
import type { WebhookTarget } from './targets/target.js';
import { DEFAULT_WEBHOOK_SETTINGS, type Subscription, type WebhookSettings } from './types.js';

export interface DeliveryOptions {
  log?: WebhookLogger;
  /** Builds the pin bumper on first use (git targets); without it git deliveries fail and retry. */
  pinBumper?: () => Promise<PinBumperLike>;
}

export type WebhookEngineHooks = Pick<EngineOptions, 'onCommitOps' | 'onBranchOps' | 'afterWrite' | 'onRepoDelete'>;

const SILENT: WebhookLogger = { info() {}, warn() {} };

export class WebhookService {
  readonly subs = new SubscriptionCache();
  readonly settings: Required<WebhookSettings>;
  private readonly outbox: Outbox;
  private context: EngineContext | undefined;
  private dispatcher: Dispatcher | undefined;

  constructor(settings: WebhookSettings = {}, now: () => Date = () => new Date()) {
    this.settings = { ...DEFAULT_WEBHOOK_SETTINGS, userAgent: `datactl-webhooks/${datactlVersion()}`, ...definedOnly(settings) };
    this.outbox = new Outbox(this.subs, now);
  }

  /** The engine hooks: outbox ops in the head-moving batch, a dispatcher wake-up after it. */
  engineHooks(): WebhookEngineHooks {
    return {
      onCommitOps: (input) => this.outbox.commitOps(input),
      onBranchOps: (input) => this.outbox.branchOps(input),
      afterWrite: () => this.wake(),
      onRepoDelete: (repo) => this.dropRepo(repo),
    };
  }

  /** Load subscriptions and find queued work; call once the metadata store is open, before any write. */
  async open(ctx: EngineContext): Promise<void> {
    this.context = ctx;
    await this.subs.load(ctx.meta);
    for (const sub of this.subs.all()) {
      const { branches, maxSeq } = await scanQueue(ctx.meta, sub.repo, sub.id);
      this.outbox.startAfter(maxSeq);
      for (const branch of branches) this.outbox.markTouched({ repo: sub.repo, id: sub.id, branch });
    }
  }

  get manage(): ManageDeps {
    return { ctx: this.ctx, subs: this.subs, outbox: this.outbox, kick: (lane) => this.dispatcher?.kick(lane) };
  }

  /** Start delivering, beginning with whatever was queued before (a restart resumes here). */
  startDelivery(opts: DeliveryOptions = {}): void {
    if (this.dispatcher) return;
    const { retryPeriodMs, backoffBaseMs, backoffCapMs, concurrency, perSubscriptionConcurrency } = this.settings;
    this.dispatcher = new Dispatcher({
      meta: this.ctx.meta,
      subs: this.subs,
      locks: this.ctx.locks,
      payloads: new PayloadBuilder(this.ctx),
      targetFor: (sub) => this.targetFor(sub, opts.pinBumper),
      policy: { retryPeriodMs, baseMs: backoffBaseMs, capMs: backoffCapMs },
      concurrency,
      perSubscriptionConcurrency,
      log: opts.log ?? SILENT,
    });
    this.wake();
  }

  async stopDelivery(): Promise<void> {
    await this.dispatcher?.stop();
  }

  private get ctx(): EngineContext {
    if (!this.context) throw new Error('webhooks used before open()');
    return this.context;
  }

  private wake(): void {
    if (!this.dispatcher) return;
    for (const lane of this.outbox.takeTouched()) this.dispatcher.kick(lane);
  }

  private targetFor(sub: Subscription, pinBumper: DeliveryOptions['pinBumper']): WebhookTarget {
    const { target } = sub;
    if (target.type === 'http') {
      return new HttpTarget({ url: target.url, secret: target.secret, timeoutMs: this.settings.timeoutMs, userAgent: this.settings.userAgent });
    }
    return new GitPinTarget(pinBumper ?? noPinBumper, target.git);
  }

  private async dropRepo(repo: RepoName): Promise<void> {
    for (const sub of this.subs.forRepo(repo)) await dropSubscription(this.manage, repo, sub.id);
  }
}

async function noPinBumper(): Promise<PinBumperLike> {
  throw new Error('git targets are not available in this process (no pin bumper configured)');
}

function definedOnly<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
