/**
 * The one error catalog. Every failure a user can see has a stable code, an HTTP status and a
 * user-safe message; the server maps these to responses in one place and the CLI maps them to
 * `datactl: <message>` and an exit code in one place.
 */
export const ERROR_CATALOG = {
  E_BAD_REQUEST: { status: 400, summary: 'The request is malformed.' },
  E_INVALID_NAME: { status: 400, summary: 'A repo or branch name does not match the allowed pattern.' },
  E_INVALID_PATH: { status: 400, summary: 'A file path is not a valid, normalized repo path.' },
  E_INVALID_REF: { status: 400, summary: 'A ref is not syntactically valid.' },
  E_INVALID_HASH: { status: 400, summary: 'A chunk or content hash is not 64 lowercase hex digits.' },
  E_TRUNCATED_UPLOAD: { status: 400, summary: 'An upload ended before all announced bytes arrived.' },
  E_INVALID_WEBHOOK: { status: 400, summary: 'A webhook field (url, secret, branches, events, git target) is invalid.' },
  E_REPO_NOT_FOUND: { status: 404, summary: 'The repo does not exist.' },
  E_BRANCH_NOT_FOUND: { status: 404, summary: 'The branch does not exist.' },
  E_COMMIT_NOT_FOUND: { status: 404, summary: 'No commit matches the ref.' },
  E_PATH_NOT_FOUND: { status: 404, summary: 'The path does not exist at that commit.' },
  E_CHUNK_NOT_FOUND: { status: 404, summary: 'The chunk is not present in this repo.' },
  E_WEBHOOK_NOT_FOUND: { status: 404, summary: 'The webhook subscription does not exist in this repo.' },
  E_DELIVERY_NOT_FOUND: { status: 404, summary: 'The webhook delivery does not exist for this subscription.' },
  E_NOT_FOUND: { status: 404, summary: 'No such route.' },
  E_REPO_EXISTS: { status: 409, summary: 'A repo with that name already exists.' },
  E_BRANCH_EXISTS: { status: 409, summary: 'A branch with that name already exists.' },
  E_CONFLICT: { status: 409, summary: 'The branch head moved since the expected parent.' },
  E_AMBIGUOUS_REF: { status: 409, summary: 'A commit id prefix matches more than one commit.' },
  E_DELIVERY_PENDING: { status: 409, summary: 'The webhook delivery is still queued; it cannot be redelivered until it is delivered or dead.' },
  E_PAYLOAD_TOO_LARGE: { status: 413, summary: 'The request body exceeds the limit.' },
  E_RANGE_NOT_SATISFIABLE: { status: 416, summary: 'The requested byte range lies outside the file.' },
  E_NOT_A_FILE: { status: 422, summary: 'The path names a directory, not a file.' },
  E_NOT_A_DIRECTORY: { status: 422, summary: 'The path names a file, not a directory.' },
  E_CHUNK_HASH_MISMATCH: { status: 422, summary: 'Uploaded bytes do not hash to the claimed chunk hash.' },
  E_CHUNKS_MISSING: { status: 422, summary: 'A manifest refers to chunks the repo does not hold.' },
  E_INVALID_MANIFEST: { status: 422, summary: 'A file manifest is inconsistent (sizes, counts).' },
  E_CONTRACT_VIOLATION: { status: 422, summary: 'A file in the commit violates an enforced schema contract.' },
  E_INVALID_CONTRACT: { status: 400, summary: 'A schema contract is malformed.' },
  E_CONTRACT_NOT_FOUND: { status: 404, summary: 'No contract with that path glob on the branch.' },
  E_PATH_CONFLICT: { status: 422, summary: 'A change would put a file where a directory is, or the reverse.' },
  E_OBJECT_NOT_FOUND: { status: 500, summary: 'An object the metadata refers to is missing from the object store.' },
  E_CORRUPT_OBJECT: { status: 500, summary: 'Stored data failed its integrity check.' },
  E_INTERNAL: { status: 500, summary: 'An unexpected server error.' },
  E_STORE_UNAVAILABLE: { status: 503, summary: 'The object or metadata store cannot be reached.' },
  E_STORAGE_FULL: { status: 507, summary: "The server's disk, quota or object store has no space left for a write." },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class DatactlError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'DatactlError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOG, value);
}

/** Errno codes of a write refused for want of space. */
const NO_SPACE_ERRNOS = new Set(['ENOSPC', 'EDQUOT']);

/**
 * Whether `err` is a write refused for want of space: an errno error from Node's fs, or LevelDB's
 * IO error, which carries only strerror's text.
 */
export function isNoSpace(err: unknown): boolean {
  // The error and a few levels of its causes (LevelDB's come wrapped).
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 4; e = e.cause as ErrorLike | undefined, depth++) {
    if (typeof e.code === 'string' && NO_SPACE_ERRNOS.has(e.code)) return true;
    if (typeof e.message === 'string' && /No space left on device|Disk quota exceeded/.test(e.message)) return true;
  }
  return false;
}

type ErrorLike = { code?: unknown; message?: unknown; cause?: unknown };

/** Shorthand used across the engine: `throw fail('E_REPO_NOT_FOUND', 'repo "x" not found')`. */
export function fail(code: ErrorCode, message: string, details?: Record<string, unknown>): DatactlError {
  return new DatactlError(code, message, details);
}
