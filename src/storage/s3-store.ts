import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { DatactlError, fail } from '../errors.js';
import { assertObjectKey, assertRange } from './local-store.js';
import type { ObjectStore } from './object-store.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading/trailing '/'; objects live at `<prefix>/<key>`. */
  prefix?: string;
  /** e.g. `http://127.0.0.1:7480`; defaults to $AWS_ENDPOINT_URL_S3 / $AWS_ENDPOINT_URL, else AWS. */
  endpoint?: string;
  /** Defaults to $AWS_REGION, else 'us-east-1'. */
  region?: string;
  /** Defaults to true when an endpoint is set (Ceph RGW, MinIO, s3rver), false for AWS. */
  forcePathStyle?: boolean;
  /** Explicit credentials; when absent the SDK's default chain ($AWS_ACCESS_KEY_ID, profiles...). */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Let check() create the bucket when it is missing (a function: asked each time it is). */
  createBucket?: boolean | (() => Promise<boolean>);
  /** SDK attempts per request including the first (SDK default 3); 1 makes failures fast. */
  maxAttempts?: number;
}

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const CONNECT_TIMEOUT_MS = 10_000;
/** A socket idle this long fails the request instead of hanging a read forever. */
const IDLE_TIMEOUT_MS = 120_000;

/** Split `s3://BUCKET/PREFIX` into its bucket and its prefix ('' when none, no surrounding '/'). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (!match) throw fail('E_BAD_REQUEST', `not an s3:// URL: ${JSON.stringify(url)}`);
  return { bucket: checkBucket(match[1] ?? ''), prefix: normalizePrefix(match[2] ?? '') };
}

/**
 * Objects in an S3 bucket (AWS, Ceph RGW, MinIO, s3rver) under an optional key prefix.
 * Checksums are computed only when an operation requires them: RGW 16 rejects the SDK's default
 * aws-chunked uploads with trailing checksums (411 MissingContentLength).
 */
export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly keyPrefix: string;
  private readonly region: string;
  private readonly createBucket: boolean | (() => Promise<boolean>);

  constructor(opts: S3StoreOptions) {
    this.bucket = checkBucket(opts.bucket);
    const prefix = normalizePrefix(opts.prefix ?? '');
    this.keyPrefix = prefix === '' ? '' : `${prefix}/`;
    this.region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.createBucket = opts.createBucket ?? false;
    const endpoint = opts.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
    const where = endpoint === undefined ? '' : ` at ${withoutUserInfo(endpoint)}`;
    this.description = `s3://${this.bucket}/${prefix}${where}`;
    this.client = new S3Client(clientConfig(opts, this.region, endpoint));
  }

  async put(key: string, body: readonly Uint8Array[]): Promise<void> {
    const Key = this.objectKey(key);
    const Body = Buffer.concat(body);
    try {
      // If-None-Match makes the write-once rule hold on servers that support conditional PUTs;
      // the others overwrite with identical bytes (keys are content addresses).
      const cmd = new PutObjectCommand({ Bucket: this.bucket, Key, Body, ContentLength: Body.length, IfNoneMatch: '*' });
      await this.client.send(cmd);
    } catch (err) {
      if (shapeOf(err).status === 412) return; // already present
      throw this.translate(err, `put ${key}`);
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Buffer> {
    const Key = this.objectKey(key);
    assertRange(offset, length);
    if (length === 0) return this.emptyRange(key, offset);
    try {
      const Range = `bytes=${offset}-${offset + length - 1}`;
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range }));
      if (totalSize(res.ContentRange) < offset + length) {
        destroyBody(res.Body); // don't wait for bytes that cannot complete the range
        throw fail('E_CORRUPT_OBJECT', `object ${key} is shorter than ${offset + length} bytes`, { key });
      }
      const all = await readBody(res.Body);
      const bytes = res.ContentRange === undefined ? all.subarray(offset) : all; // Range ignored: whole object
      if (bytes.length < length) {
        throw fail('E_CORRUPT_OBJECT', `object ${key} is shorter than ${offset + length} bytes`, { key });
      }
      return bytes.subarray(0, length);
    } catch (err) {
      throw this.translate(err, `read ${key}`, key);
    }
  }

  async stat(key: string): Promise<{ size: number } | undefined> {
    const Key = this.objectKey(key);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { size: res.ContentLength ?? 0 };
    } catch (err) {
      const { status, name } = shapeOf(err);
      if (status === 404 && name !== 'NoSuchBucket') return undefined;
      throw this.translate(err, `stat ${key}`);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      if (shapeOf(err).name === 'NoSuchKey') return;
      throw this.translate(err, `delete ${key}`);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.listPage(this.keyPrefix + prefix, token);
      for (const obj of page.Contents ?? []) {
        if (obj.Key?.startsWith(this.keyPrefix)) yield obj.Key.slice(this.keyPrefix.length);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (shapeOf(err).status !== 404 || !(await this.mayCreateBucket())) throw this.translate(err, 'check');
      await this.makeBucket();
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    assertObjectKey(key);
    return this.keyPrefix + key;
  }

  private async listPage(Prefix: string, ContinuationToken: string | undefined) {
    try {
      return await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken }));
    } catch (err) {
      throw this.translate(err, `list ${Prefix}`);
    }
  }

  /** A zero-length read: no valid Range header exists, so check existence and size instead. */
  private async emptyRange(key: string, offset: number): Promise<Buffer> {
    const st = await this.stat(key);
    if (st === undefined) throw fail('E_OBJECT_NOT_FOUND', `object ${key} not found in ${this.description}`, { key });
    if (st.size < offset) throw fail('E_CORRUPT_OBJECT', `object ${key} is shorter than ${offset} bytes`, { key });
    return Buffer.alloc(0);
  }

  private async mayCreateBucket(): Promise<boolean> {
    return typeof this.createBucket === 'function' ? this.createBucket() : this.createBucket;
  }

  private async makeBucket(): Promise<void> {
    const config = this.region === 'us-east-1' ? undefined : { LocationConstraint: this.region as never };
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket, CreateBucketConfiguration: config }));
    } catch (err) {
      // 409: created meanwhile by a racing check() (s3rver even answers 409 BucketAlreadyExists
      // for the caller's own bucket); HeadBucket decides whether it is usable.
      if (shapeOf(err).status !== 409) throw this.translate(err, 'create bucket');
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket })).catch((e: unknown) => {
        throw this.translate(e, 'check');
      });
    }
  }

  /**
   * Map an SDK error to the catalog: a missing key (404 other than NoSuchBucket) is
   * E_OBJECT_NOT_FOUND and an unsatisfiable range (416) E_CORRUPT_OBJECT when `key` is given;
   * a store out of space or over a quota is E_STORAGE_FULL; no HTTP response (refused, reset,
   * timeout), 5xx, auth failures and a missing bucket are E_STORE_UNAVAILABLE; anything else is
   * E_INTERNAL.
   */
  private translate(err: unknown, what: string, key?: string): DatactlError {
    if (err instanceof DatactlError) return err;
    const { status, name, message } = shapeOf(err);
    const details = { key, s3Error: name, httpStatus: status };
    if (key !== undefined && status === 404 && name !== 'NoSuchBucket') {
      return fail('E_OBJECT_NOT_FOUND', `object ${key} not found in ${this.description}`, details);
    }
    if (key !== undefined && status === 416) {
      return fail('E_CORRUPT_OBJECT', `object ${key} is shorter than the requested range`, details);
    }
    if (status === 507 || STORAGE_FULL_ERRORS.has(name)) {
      // Before the 403 branch: RGW answers a quota with 403, which is not a credentials problem.
      const said = [name, message].filter((p) => p !== '' && p !== 'Unknown' && p !== 'UnknownError').join(': ');
      return fail('E_STORAGE_FULL', `object store ${this.description}: ${what} refused: ${said || 'no space'}${status ? ` (HTTP ${status})` : ''}: the bucket or its account is out of space or over its quota`, details);
    }
    const text = `object store ${this.description}: ${what} failed: ${describeFailure(status, name, message)}`;
    const unavailable = status === undefined || status >= 500 || [401, 403, 404].includes(status);
    return fail(unavailable ? 'E_STORE_UNAVAILABLE' : 'E_INTERNAL', text, details);
  }
}

/**
 * Error codes S3-compatible stores answer a write with when it does not fit: Ceph RGW's user or
 * bucket quota (HTTP 403), MinIO's full drives and bucket quota. Plain HTTP 507 counts too.
 */
const STORAGE_FULL_ERRORS = new Set(['QuotaExceeded', 'XMinioStorageFull', 'XMinioAdminBucketQuotaExceeded', 'InsufficientStorage']);

function clientConfig(opts: S3StoreOptions, region: string, endpoint: string | undefined): S3ClientConfig {
  const explicit = opts.accessKeyId !== undefined && opts.secretAccessKey !== undefined;
  return {
    region,
    endpoint,
    forcePathStyle: opts.forcePathStyle ?? endpoint !== undefined,
    credentials: explicit
      ? { accessKeyId: opts.accessKeyId!, secretAccessKey: opts.secretAccessKey!, sessionToken: opts.sessionToken }
      : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: opts.maxAttempts,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, requestTimeout: IDLE_TIMEOUT_MS },
  };
}

/** The object size from a `Content-Range: bytes a-b/SIZE` header; Infinity when absent or unknown. */
function totalSize(contentRange: string | undefined): number {
  const match = /\/(\d+)$/.exec(contentRange ?? '');
  return match ? Number(match[1]) : Infinity;
}

function destroyBody(body: unknown): void {
  (body as { destroy?: () => void } | undefined)?.destroy?.();
}

async function readBody(body: { transformToByteArray(): Promise<Uint8Array> } | undefined): Promise<Buffer> {
  if (body === undefined) return Buffer.alloc(0);
  const bytes = await body.transformToByteArray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The error's name, message and HTTP status, with a hint where the status alone says what to fix.
 * A HEAD (HeadBucket, HeadObject) has no body, so the SDK names such failures "Unknown" or
 * "NotFound"/"Forbidden": the status is then most of what there is to say.
 */
function describeFailure(status: number | undefined, name: string, message: string): string {
  const label = name === 'Unknown' || name === 'UnknownError' ? '' : name;
  const said = [label, message].filter((p, i, all) => p !== '' && all.indexOf(p) === i).join(': ');
  const http = status === undefined ? '' : `HTTP ${status}`;
  const hint =
    status === 401 || status === 403
      ? 'access denied: check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and that they may use this bucket'
      : name === 'NoSuchBucket' || (status === 404 && /bucket/i.test(`${name} ${message}`))
        ? 'no such bucket'
        : '';
  return [said !== '' && http !== '' ? `${said} (${http})` : said || http || 'no response', hint].filter((p) => p !== '').join(': ');
}

/** The parts of an SDK or socket error we branch on; status is undefined when no response came. */
function shapeOf(err: unknown): { status: number | undefined; name: string; message: string } {
  const e = (err ?? {}) as { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number } };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const name = code ?? (typeof e.name === 'string' ? e.name : 'Error');
  const message = typeof e.message === 'string' && e.message !== 'UnknownError' ? e.message : '';
  return { status: e.$metadata?.httpStatusCode, name, message };
}

function checkBucket(bucket: string): string {
  if (!BUCKET_PATTERN.test(bucket)) throw fail('E_BAD_REQUEST', `invalid S3 bucket name ${JSON.stringify(bucket)}`);
  return bucket;
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  if (trimmed !== '') {
    try {
      assertObjectKey(trimmed);
    } catch {
      throw fail('E_BAD_REQUEST', `invalid S3 key prefix ${JSON.stringify(prefix)}`);
    }
  }
  return trimmed;
}

function withoutUserInfo(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    return url.href.replace(/\/$/, '');
  } catch {
    return '(invalid endpoint)';
  }
}
