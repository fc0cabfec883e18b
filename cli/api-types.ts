/**
 * Request and response shapes of the HTTP API, exactly as docs/http-api.md states them.
 * Ids and hashes are plain strings on the wire; callers that need the branded types parse them.
 */
import type { DiffChange } from '../src/ops/diff.js';
import type { ParquetInfo } from '../src/parquet/index.js';

export interface Repo {
  name: string;
  description: string;
  createdAt: string;
  branches: number;
}

export interface Branch {
  name: string;
  head: string | null;
  createdAt: string;
}

export interface Commit {
  id: string;
  repo: string;
  parents: string[];
  tree: string;
  author: string;
  message: string;
  createdAt: string;
  metadata: Record<string, unknown>;
}

/** `[chunk hash, size]` */
export type ChunkRef = [hash: string, size: number];

export interface Manifest {
  size: number;
  hash: string;
  chunker: string;
  chunks: ChunkRef[];
}

export interface FileEntry {
  name: string;
  path: string;
  type: 'file';
  size: number;
  hash: string;
  /** Only with `manifests=1` on tree listings; always present on stat. */
  chunks?: ChunkRef[];
}

export interface DirEntry {
  name: string;
  path: string;
  type: 'dir';
  size: number;
}

export type Entry = FileEntry | DirEntry;

export interface Page {
  nextCursor: string | null;
}

export interface PageOptions {
  limit?: number;
  cursor?: string;
}

export interface RepoList extends Page {
  repos: Repo[];
}

export interface BranchList extends Page {
  branches: Branch[];
}

export interface CommitList extends Page {
  commits: Commit[];
}

export interface TreeListing extends Page {
  commit: string;
  path: string;
  entries: Entry[];
}

export interface StatResult {
  commit: string;
  entry: Entry;
}

/** One changed path of a diff (the engine's type: the wire shape is the same). */
export type Change = DiffChange;

/** `GET .../inspect`: the entry and, for `.parquet` paths, the footer metadata. */
export interface InspectFileResult {
  commit: string;
  entry: Entry;
  parquet: ParquetInfo | null;
}

export type { ContractMode, ContractRule } from '../src/ops/contracts.js';

export interface DiffResult extends Page {
  from: string;
  to: string;
  changes: Change[];
}

export interface MissingChunksResult {
  missing: string[];
}

export interface UploadChunksResult {
  received: number;
  stored: number;
  storedBytes: number;
  deduplicated: number;
}

export type CommitChange =
  | { op: 'put'; path: string; manifest: Manifest }
  | { op: 'delete'; path: string };

export interface CommitRequest {
  branch: string;
  message: string;
  author: string;
  /** Expected current head; `null` expects an empty branch; omit to apply to whatever is there. */
  parent?: string | null;
  createBranch?: boolean;
  metadata?: Record<string, unknown>;
  changes: CommitChange[];
}

export interface CommitResult {
  created: boolean;
  commit: Commit | null;
}

/** `PUT .../file` answers "like a commit", plus the stored manifest without chunks. */
export interface PutFileResult extends CommitResult {
  file?: Omit<Manifest, 'chunks'>;
}

export interface FileDownload {
  /** 200, 206 or 304. */
  status: number;
  /** Empty for 304. */
  body: ReadableStream<Uint8Array>;
  commit: string | null;
  contentHash: string | null;
  contentLength: number | null;
  etag: string | null;
}

export interface HealthResult {
  ok: boolean;
}

export type WebhookEvent = 'commit' | 'branch.created' | 'branch.deleted';

export interface GitPinTarget {
  /** Credentials in the URL are shown as `//***@`. */
  url: string;
  branch: string;
  pinFile: string;
  key: string;
}

interface WebhookCommon {
  id: string;
  repo: string;
  branches: string[];
  events: WebhookEvent[];
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

/** A subscription; the secret is write-only (`hasSecret` says whether one is set). */
export type Webhook =
  | (WebhookCommon & { type: 'http'; url: string; hasSecret: boolean })
  | (WebhookCommon & { type: 'git'; git: GitPinTarget });

export interface WebhookList {
  webhooks: Webhook[];
}

interface WebhookFilters {
  /** Branch globs (`*` matches any run of name characters); default `["*"]`. */
  branches?: string[];
  /** Default: every event (git targets: `commit`). */
  events?: WebhookEvent[];
  active?: boolean;
}

export type CreateWebhookRequest =
  | (WebhookFilters & { type?: 'http'; url: string; secret?: string })
  | (WebhookFilters & { type: 'git'; git: GitPinTarget });

export interface UpdateWebhookRequest extends WebhookFilters {
  url?: string;
  /** null removes the secret. */
  secret?: string | null;
  git?: Partial<GitPinTarget>;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead';

export interface WebhookDelivery {
  /** The `X-Datactl-Delivery` id, the same across retries and redeliveries. */
  id: string;
  event: WebhookEvent;
  repo: string;
  branch: string;
  commit?: string;
  head?: string | null;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastResult: string | null;
  lastLatencyMs: number | null;
  createdAt: string;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  redeliveries: number;
}

export interface DeliveryList extends Page {
  deliveries: WebhookDelivery[];
}
