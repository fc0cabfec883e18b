/** `datactl webhook add|list|inspect|update|remove|deliveries|redeliver`. */
import type { Command } from 'commander';
import { fail } from '../../src/errors.js';
import { parseRepoName } from '../../src/types.js';
import type { CreateWebhookRequest, UpdateWebhookRequest, Webhook, WebhookDelivery, WebhookEvent } from '../api-types.js';
import { formatFields, formatTable, shortId, timeCell } from '../output.js';
import { collect, context, positiveInt } from './context.js';

interface FilterOptions {
  branch?: string[];
  events?: string;
}

interface AddOptions extends FilterOptions {
  url?: string;
  secret?: string;
  git?: string;
  gitBranch?: string;
  pinFile?: string;
  pinKey?: string;
  inactive?: boolean;
}

interface UpdateOptions extends FilterOptions {
  url?: string;
  secret?: string;
  removeSecret?: boolean;
  enable?: boolean;
  disable?: boolean;
}

const SECRET_ENV = 'DATACTL_WEBHOOK_SECRET';

export function registerWebhook(program: Command, env: NodeJS.ProcessEnv = process.env): void {
  const webhook = program.command('webhook').description("manage a repo's webhooks and inspect their deliveries");
  registerAdd(webhook, env);
  registerReadCommands(webhook);
  registerUpdate(webhook);
  registerDeliveryCommands(webhook);
}

function registerAdd(webhook: Command, env: NodeJS.ProcessEnv): void {
  webhook
    .command('add')
    .description('subscribe an HTTP receiver (--url) or a git pin (--git) to commit and branch events')
    .argument('<repo>', 'repo name')
    .option('--url <url>', 'receiver URL (http or https)')
    .option('--secret <secret>', `HMAC-SHA256 signing secret (env ${SECRET_ENV})`)
    .option('--git <url>', 'instead of --url: code repo whose pin file to bump on every commit')
    .option('--git-branch <branch>', 'code repo branch to push to (with --git)', 'main')
    .option('--pin-file <path>', 'JSON file in the code repo that holds the pins (with --git)')
    .option('--pin-key <key>', 'key of this pin inside the pin file (with --git)')
    .option('--branch <glob>', 'only events on matching branches; repeatable, "*" matches any run (default "*")', collect)
    .option('--events <list>', 'comma-separated: commit, branch.created, branch.deleted (default all; git: commit)')
    .option('--inactive', 'create it paused (no events until enabled)')
    .action(async (repoArg: string, opts: AddOptions, cmd: Command) => {
      const ctx = context(cmd);
      const request = { ...target(opts, env), ...filters(opts), ...(opts.inactive ? { active: false } : {}) } as CreateWebhookRequest;
      const created = await (await ctx.client()).createWebhook(parseRepoName(repoArg), request);
      ctx.out.done(created, () => `created webhook ${created.id} -> ${targetCell(created)}`);
    });
}

function target(opts: AddOptions, env: NodeJS.ProcessEnv): Partial<CreateWebhookRequest> {
  if ((opts.url === undefined) === (opts.git === undefined)) throw fail('E_BAD_REQUEST', 'give exactly one of --url URL or --git URL');
  if (opts.url !== undefined) {
    const secret = opts.secret ?? (env[SECRET_ENV] || undefined);
    return secret === undefined ? { url: opts.url } : { url: opts.url, secret };
  }
  if (opts.secret !== undefined) throw fail('E_BAD_REQUEST', '--secret applies to --url receivers, not to --git targets');
  if (!opts.pinFile || !opts.pinKey) throw fail('E_BAD_REQUEST', '--git needs --pin-file PATH and --pin-key KEY');
  return { type: 'git', git: { url: opts.git!, branch: opts.gitBranch ?? 'main', pinFile: opts.pinFile, key: opts.pinKey } };
}

function filters(opts: FilterOptions): { branches?: string[]; events?: WebhookEvent[] } {
  const out: { branches?: string[]; events?: WebhookEvent[] } = {};
  if (opts.branch) out.branches = opts.branch;
  if (opts.events !== undefined) out.events = opts.events.split(',').map((e) => e.trim()).filter(Boolean) as WebhookEvent[];
  return out;
}

function registerReadCommands(webhook: Command): void {
  webhook
    .command('list')
    .description("list a repo's webhooks (secrets are never shown)")
    .argument('<repo>', 'repo name')
    .action(async (repoArg: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const { webhooks } = await (await ctx.client()).listWebhooks(parseRepoName(repoArg));
      ctx.out.result({ webhooks }, () => formatWebhooks(webhooks));
    });

  webhook
    .command('inspect')
    .description('show one webhook')
    .argument('<repo>', 'repo name')
    .argument('<id>', 'webhook id')
    .action(async (repoArg: string, id: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const w = await (await ctx.client()).getWebhook(parseRepoName(repoArg), id);
      ctx.out.result(w, () => formatWebhook(w));
    });

  webhook
    .command('remove')
    .description('delete a webhook with its queued deliveries and log')
    .argument('<repo>', 'repo name')
    .argument('<id>', 'webhook id')
    .action(async (repoArg: string, id: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const repo = parseRepoName(repoArg);
      await (await ctx.client()).deleteWebhook(repo, id);
      ctx.out.done({ repo, deleted: id }, () => `deleted webhook ${id}`);
    });
}

function registerUpdate(webhook: Command): void {
  webhook
    .command('update')
    .description('change a webhook: receiver URL, secret, filters, enabled')
    .argument('<repo>', 'repo name')
    .argument('<id>', 'webhook id')
    .option('--url <url>', 'new receiver URL')
    .option('--secret <secret>', 'new signing secret')
    .option('--remove-secret', 'stop signing deliveries')
    .option('--branch <glob>', 'replace the branch filter; repeatable', collect)
    .option('--events <list>', 'replace the event filter (comma-separated)')
    .option('--enable', 'resume sending new events')
    .option('--disable', 'stop queueing new events (queued ones still go out)')
    .action(async (repoArg: string, id: string, opts: UpdateOptions, cmd: Command) => {
      const ctx = context(cmd);
      const updated = await (await ctx.client()).updateWebhook(parseRepoName(repoArg), id, updateRequest(opts));
      ctx.out.done(updated, () => `updated webhook ${updated.id}`);
    });
}

function updateRequest(opts: UpdateOptions): UpdateWebhookRequest {
  if (opts.enable && opts.disable) throw fail('E_BAD_REQUEST', 'give at most one of --enable and --disable');
  if (opts.secret !== undefined && opts.removeSecret) throw fail('E_BAD_REQUEST', 'give at most one of --secret and --remove-secret');
  const request: UpdateWebhookRequest = { ...filters(opts) };
  if (opts.url !== undefined) request.url = opts.url;
  if (opts.secret !== undefined) request.secret = opts.secret;
  if (opts.removeSecret) request.secret = null;
  if (opts.enable || opts.disable) request.active = opts.enable === true;
  if (Object.keys(request).length === 0) throw fail('E_BAD_REQUEST', 'nothing to update: give --url, --secret, --branch, --events, --enable or --disable');
  return request;
}

function registerDeliveryCommands(webhook: Command): void {
  webhook
    .command('deliveries')
    .description("a webhook's delivery log, newest first")
    .argument('<repo>', 'repo name')
    .argument('<id>', 'webhook id')
    .option('--limit <n>', 'at most this many (default 20)', positiveInt('--limit'))
    .action(async (repoArg: string, id: string, opts: { limit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const client = await ctx.client();
      const { paginate } = await import('../client.js');
      const deliveries: WebhookDelivery[] = [];
      const pages = paginate((p) => client.listDeliveries(parseRepoName(repoArg), id, p), (p) => p.deliveries, { max: opts.limit ?? 20 });
      for await (const d of pages) deliveries.push(d);
      ctx.out.result({ deliveries }, () => formatDeliveries(deliveries));
    });

  webhook
    .command('redeliver')
    .description('send a delivered or dead delivery again (same delivery id and payload)')
    .argument('<repo>', 'repo name')
    .argument('<id>', 'webhook id')
    .argument('<delivery-id>', 'delivery id (from webhook deliveries)')
    .action(async (repoArg: string, id: string, deliveryId: string, _opts: unknown, cmd: Command) => {
      const ctx = context(cmd);
      const d = await (await ctx.client()).redeliver(parseRepoName(repoArg), id, deliveryId);
      ctx.out.done(d, () => `queued delivery ${d.id} again (${d.event} on ${d.branch})`);
    });
}

function targetCell(w: Webhook): string {
  return w.type === 'http' ? w.url : `git ${w.git.url} ${w.git.branch}:${w.git.pinFile} [${w.git.key}]`;
}

function formatWebhooks(webhooks: Webhook[]): string {
  return formatTable(webhooks, [
    { header: 'ID', value: (w) => w.id },
    { header: 'TARGET', value: targetCell },
    { header: 'BRANCHES', value: (w) => w.branches.join(',') },
    { header: 'EVENTS', value: (w) => w.events.join(',') },
    { header: 'ACTIVE', value: (w) => (w.active ? 'yes' : 'no') },
    { header: 'SIGNED', value: (w) => (w.type === 'http' ? (w.hasSecret ? 'yes' : 'no') : '-') },
  ]);
}

function formatWebhook(w: Webhook): string {
  return formatFields([
    ['Webhook', w.id],
    ['Repo', w.repo],
    ['Target', targetCell(w)],
    ['Signed', w.type === 'http' ? (w.hasSecret ? 'yes' : 'no') : '-'],
    ['Branches', w.branches.join(', ')],
    ['Events', w.events.join(', ')],
    ['Active', w.active ? 'yes' : 'no'],
    ['Created', timeCell(w.createdAt)],
    ['Updated', timeCell(w.updatedAt)],
  ]);
}

function formatDeliveries(deliveries: WebhookDelivery[]): string {
  return formatTable(deliveries, [
    { header: 'DELIVERY', value: (d) => d.id },
    { header: 'EVENT', value: (d) => d.event },
    { header: 'BRANCH', value: (d) => d.branch },
    { header: 'COMMIT', value: (d) => shortId(d.commit ?? d.head) },
    { header: 'STATUS', value: (d) => d.status },
    { header: 'ATTEMPTS', value: (d) => String(d.attempts), align: 'right' },
    { header: 'LAST', value: lastCell },
    { header: 'LATENCY', value: (d) => (d.lastLatencyMs === null ? '-' : `${d.lastLatencyMs} ms`), align: 'right' },
    { header: 'CREATED', value: (d) => timeCell(d.createdAt) },
  ]);
}

function lastCell(d: WebhookDelivery): string {
  if (d.lastError) return d.lastStatusCode === null ? d.lastError : `${d.lastStatusCode} ${d.lastError}`;
  if (d.lastStatusCode !== null) return String(d.lastStatusCode);
  return d.lastResult ?? '-';
}
