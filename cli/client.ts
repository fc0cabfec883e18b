/**
 * DatactlClient: one method per endpoint of docs/http-api.md, over global fetch. This is also the
 * SDK (`import { DatactlClient } from 'datactl'`). Errors arrive as DatactlError with the server's
 * code, message and details; an unreachable server is a DatactlError too (see http.ts).
 */
import type {
  Branch,
  BranchList,
  CreateWebhookRequest,
  DeliveryList,
  CommitList,
  Commit,
  CommitChange,
  CommitRequest,
  CommitResult,
  DiffResult,
  FileDownload,
  HealthResult,
  MissingChunksResult,
  Page,
  PageOptions,
  PutFileResult,
  Repo,
  RepoList,
  StatResult,
  TreeListing,
  UpdateWebhookRequest,
  UploadChunksResult,
  Webhook,
  WebhookDelivery,
  WebhookList,
  ContractMode,
  ContractRule,
  InspectFileResult,
} from './api-types.js';
import { decodeFrameBatches, decodeFrames, type DecodeOptions, type Frame } from '../src/wire/frames.js';
import { commitStreamBody, NDJSON_CONTENT_TYPE } from './commit-stream.js';
import { DEFAULT_SERVER_URL } from './defaults.js';
import { readBody, Transport, type TransportOptions } from './http.js';

export { DEFAULT_SERVER_URL };

export type ClientOptions = Partial<TransportOptions>;

const seg = encodeURIComponent;

export interface TreeOptions extends PageOptions {
  path?: string;
  manifests?: boolean;
}

export interface DiffOptions extends PageOptions {
  from: string;
  to: string;
  path?: string;
}

export interface ReadFileOptions {
  /** Inclusive byte range, as in `Range: bytes=start-end`; `end` omitted means to the end. */
  range?: { start: number; end?: number };
  ifNoneMatch?: string;
  /**
   * The caller checks every chunk and the whole against the manifest itself (as downloadFile
   * does): the server then skips its own re-hash of each chunk (`verify=0`), ~0.4 s of its CPU per GB.
   */
  verifiedByCaller?: boolean;
}

export interface WriteOptions {
  message?: string;
  author?: string;
}

export class DatactlClient {
  readonly baseUrl: string;
  private readonly http: Transport;

  constructor(options: ClientOptions = {}) {
    this.http = new Transport({ ...options, baseUrl: options.baseUrl ?? DEFAULT_SERVER_URL });
    this.baseUrl = this.http.baseUrl;
  }

  health(): Promise<HealthResult> {
    return this.http.json({ method: 'GET', path: '/healthz', idempotent: true });
  }

  // Repos
  listRepos(page: PageOptions = {}): Promise<RepoList> {
    return this.http.json({ method: 'GET', path: '/v1/repos', query: { ...page }, idempotent: true });
  }
  createRepo(name: string, description?: string): Promise<Repo> {
    return this.http.json({ method: 'POST', path: '/v1/repos', json: { name, description } });
  }
  getRepo(repo: string): Promise<Repo> {
    return this.http.json({ method: 'GET', path: repoPath(repo), idempotent: true });
  }
  async deleteRepo(repo: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: repoPath(repo) });
  }

  // Branches
  listBranches(repo: string, page: PageOptions = {}): Promise<BranchList> {
    return this.http.json({ method: 'GET', path: `${repoPath(repo)}/branches`, query: { ...page }, idempotent: true });
  }
  createBranch(repo: string, name: string, head?: string): Promise<Branch> {
    return this.http.json({ method: 'POST', path: `${repoPath(repo)}/branches`, json: { name, head } });
  }
  getBranch(repo: string, branch: string): Promise<Branch> {
    return this.http.json({ method: 'GET', path: branchPath(repo, branch), idempotent: true });
  }
  async deleteBranch(repo: string, branch: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: branchPath(repo, branch) });
  }

  // Commits and trees
  listCommits(repo: string, options: PageOptions & { ref?: string } = {}): Promise<CommitList> {
    return this.http.json({ method: 'GET', path: `${repoPath(repo)}/commits`, query: { ...options }, idempotent: true });
  }
  getCommit(repo: string, ref: string): Promise<Commit> {
    return this.http.json({ method: 'GET', path: commitPath(repo, ref), idempotent: true });
  }
  listTree(repo: string, ref: string, options: TreeOptions = {}): Promise<TreeListing> {
    const { manifests, ...rest } = options;
    const query = { ...rest, manifests: manifests ? 1 : undefined };
    return this.http.json({ method: 'GET', path: `${commitPath(repo, ref)}/tree`, query, idempotent: true });
  }
  stat(repo: string, ref: string, path: string): Promise<StatResult> {
    return this.http.json({ method: 'GET', path: `${commitPath(repo, ref)}/stat`, query: { path }, idempotent: true });
  }

  /** Stream a file's bytes. The body is a web ReadableStream; read it once. */
  async readFile(repo: string, ref: string, path: string, options: ReadFileOptions = {}): Promise<FileDownload> {
    const headers: Record<string, string> = {};
    if (options.range) headers['range'] = `bytes=${options.range.start}-${options.range.end ?? ''}`;
    if (options.ifNoneMatch) headers['if-none-match'] = options.ifNoneMatch;
    const res = await this.http.send({
      method: 'GET',
      path: `${commitPath(repo, ref)}/file`,
      query: options.verifiedByCaller ? { path, verify: '0' } : { path },
      headers,
      idempotent: true,
      accept: [304],
    });
    const length = res.headers.get('content-length');
    return {
      status: res.status,
      body: res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() }),
      commit: res.headers.get('x-datactl-commit'),
      contentHash: res.headers.get('x-datactl-content-hash'),
      contentLength: length === null ? null : Number(length),
      etag: res.headers.get('etag'),
    };
  }

  /** The entry and, for Parquet files, schema, rows and statistics (read from the footer at commit time). */
  inspectFile(repo: string, ref: string, path: string): Promise<InspectFileResult> {
    return this.http.json({ method: 'GET', path: `${commitPath(repo, ref)}/inspect`, query: { path }, idempotent: true });
  }

  // Schema contracts
  async listContracts(repo: string, branch: string): Promise<ContractRule[]> {
    const res = await this.http.json<{ contracts: ContractRule[] }>({ method: 'GET', path: `${branchPath(repo, branch)}/contracts`, idempotent: true });
    return res.contracts;
  }
  setContract(repo: string, branch: string, rule: { path: string; mode: ContractMode; contract: unknown }): Promise<ContractRule> {
    return this.http.json({ method: 'PUT', path: `${branchPath(repo, branch)}/contracts`, json: rule, idempotent: true });
  }
  async deleteContract(repo: string, branch: string, path: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: `${branchPath(repo, branch)}/contracts`, query: { path } });
  }

  diff(repo: string, options: DiffOptions): Promise<DiffResult> {
    return this.http.json({ method: 'GET', path: `${repoPath(repo)}/diff`, query: { ...options }, idempotent: true });
  }

  // Chunks
  /** Have the server re-hash its copies of these chunks; damaged ones are marked for repair by a re-put. */
  checkChunks(repo: string, hashes: readonly string[]): Promise<{ checked: number; damaged: string[] }> {
    return this.http.json({ method: 'POST', path: `${repoPath(repo)}/chunks/check`, json: { hashes }, idempotent: true });
  }

  missingChunks(repo: string, hashes: readonly string[]): Promise<MissingChunksResult> {
    return this.http.json({ method: 'POST', path: `${repoPath(repo)}/chunks/missing`, json: { hashes }, idempotent: true });
  }

  /**
   * Upload framed chunks (see frames.ts); `frames` may be the frame parts (headers and payloads) to
   * send without concatenating. Idempotent by content, so it is retried.
   */
  uploadChunks(repo: string, frames: Uint8Array | readonly Uint8Array[]): Promise<UploadChunksResult> {
    return this.http.json({ method: 'POST', path: `${repoPath(repo)}/chunks`, body: frames, idempotent: true });
  }

  /** Read chunks as verified frames, in request order. */
  async *readChunks(repo: string, hashes: readonly string[], options: DecodeOptions = {}): AsyncGenerator<Frame> {
    yield* decodeFrames(await this.chunkStream(repo, hashes), options);
  }

  /** readChunks in batches of frames, NOT verified (see decodeFrameBatches): for a caller that hashes every payload. */
  async *readChunkBatches(repo: string, hashes: readonly string[]): AsyncGenerator<Frame[]> {
    yield* decodeFrameBatches(await this.chunkStream(repo, hashes));
  }

  private async chunkStream(repo: string, hashes: readonly string[]): Promise<AsyncIterable<Uint8Array>> {
    const res = await this.http.send({ method: 'POST', path: `${repoPath(repo)}/chunks/read`, json: { hashes }, idempotent: true });
    return readBody(res.body, this.baseUrl);
  }

  // Writes
  commit(repo: string, request: CommitRequest): Promise<CommitResult> {
    return this.http.json({ method: 'POST', path: `${repoPath(repo)}/commits`, json: request });
  }

  /**
   * The same commit for any number of changes: sent as NDJSON, each line made from `changes` as the
   * request is written (memory stays bounded on both sides). Never retried: the body is consumed.
   * Groups of changes (arrays, or bytes of whole NDJSON change lines, each ending in a newline, as
   * PutLines makes) are sent as each arrives. If `changes` throws, the request is cut off
   * unfinished and the server commits nothing.
   */
  commitStream(
    repo: string,
    header: Omit<CommitRequest, 'changes'>,
    changes: Iterable<CommitChange> | AsyncIterable<CommitChange | readonly CommitChange[] | Uint8Array>,
  ): Promise<CommitResult> {
    return this.http.json({
      method: 'POST',
      path: `${repoPath(repo)}/commits`,
      headers: { 'content-type': NDJSON_CONTENT_TYPE },
      body: commitStreamBody(header, changes),
    });
  }

  /** Upload one file's raw bytes; the server chunks it and commits (any size, streamed). */
  putFile(
    repo: string,
    branch: string,
    path: string,
    body: Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
    options: WriteOptions = {},
  ): Promise<PutFileResult> {
    const query = { path, message: options.message, author: options.author };
    return this.http.json({ method: 'PUT', path: `${branchPath(repo, branch)}/file`, query, body });
  }

  /** Delete a file or a whole directory in one commit. */
  deleteFile(repo: string, branch: string, path: string, options: WriteOptions = {}): Promise<CommitResult> {
    const query = { path, message: options.message, author: options.author };
    return this.http.json({ method: 'DELETE', path: `${branchPath(repo, branch)}/file`, query });
  }

  // Webhooks
  listWebhooks(repo: string): Promise<WebhookList> {
    return this.http.json({ method: 'GET', path: `${repoPath(repo)}/webhooks`, idempotent: true });
  }
  createWebhook(repo: string, request: CreateWebhookRequest): Promise<Webhook> {
    return this.http.json({ method: 'POST', path: `${repoPath(repo)}/webhooks`, json: request });
  }
  getWebhook(repo: string, id: string): Promise<Webhook> {
    return this.http.json({ method: 'GET', path: webhookPath(repo, id), idempotent: true });
  }
  updateWebhook(repo: string, id: string, request: UpdateWebhookRequest): Promise<Webhook> {
    return this.http.json({ method: 'PATCH', path: webhookPath(repo, id), json: request });
  }
  async deleteWebhook(repo: string, id: string): Promise<void> {
    await this.http.json({ method: 'DELETE', path: webhookPath(repo, id) });
  }
  /** The delivery log, newest first. */
  listDeliveries(repo: string, id: string, page: PageOptions = {}): Promise<DeliveryList> {
    return this.http.json({ method: 'GET', path: `${webhookPath(repo, id)}/deliveries`, query: { ...page }, idempotent: true });
  }
  getDelivery(repo: string, id: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.http.json({ method: 'GET', path: `${webhookPath(repo, id)}/deliveries/${seg(deliveryId)}`, idempotent: true });
  }
  /** Send a delivered or dead delivery again, with the same delivery id and payload. */
  redeliver(repo: string, id: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.http.json({ method: 'POST', path: `${webhookPath(repo, id)}/deliveries/${seg(deliveryId)}/redeliver` });
  }
}

function repoPath(repo: string): string {
  return `/v1/repos/${seg(repo)}`;
}

function branchPath(repo: string, branch: string): string {
  return `${repoPath(repo)}/branches/${seg(branch)}`;
}

function webhookPath(repo: string, id: string): string {
  return `${repoPath(repo)}/webhooks/${seg(id)}`;
}

function commitPath(repo: string, ref: string): string {
  return `${repoPath(repo)}/commits/${seg(ref)}`;
}

/**
 * The first `limit` items (all of them without a limit) and whether there were more: one item past
 * the limit is read to know, so a cut listing can say so instead of passing for the whole.
 */
export async function upTo<T>(items: (max: number | undefined) => AsyncIterable<T>, limit: number | undefined): Promise<{ items: T[]; truncated: boolean }> {
  const out: T[] = [];
  for await (const item of items(limit === undefined ? undefined : limit + 1)) out.push(item);
  const truncated = limit !== undefined && out.length > limit;
  if (truncated) out.length = limit;
  return { items: out, truncated };
}

/**
 * Iterate every item of a paged listing, following `nextCursor` until it is null or `max`
 * items were produced: `paginate((page) => client.listRepos(page), (p) => p.repos)`.
 */
export async function* paginate<P extends Page, T>(
  fetchPage: (page: PageOptions) => Promise<P>,
  items: (page: P) => T[],
  options: { max?: number; pageSize?: number } = {},
): AsyncGenerator<T> {
  let produced = 0;
  let cursor: string | undefined;
  const max = options.max ?? Infinity;
  do {
    const limit = Math.min(options.pageSize ?? 1000, max - produced);
    if (limit <= 0) return;
    const page = await fetchPage(cursor === undefined ? { limit } : { limit, cursor });
    for (const item of items(page)) {
      if (produced++ >= max) return;
      yield item;
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}
