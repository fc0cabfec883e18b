/**
 * The one place where the CLI turns an error into `datactl: <message>` on stderr and an exit code.
 * Exit codes are part of the CLI's contract for scripts; see EXIT.
 */
import { DatactlError, type ErrorCode } from '../src/errors.js';
import { isUnreachable } from './http.js';

export const EXIT = {
  OK: 0,
  /** Anything not covered below (server errors, bugs). */
  GENERIC: 1,
  /** Bad command line or invalid names, paths, refs. */
  USAGE: 2,
  NOT_FOUND: 3,
  /** Already exists, head moved, ambiguous ref. */
  CONFLICT: 4,
  /** Data failed an integrity check. */
  INTEGRITY: 5,
  /** The server (or its store) cannot be reached, or has no space left. */
  UNAVAILABLE: 6,
  /** A schema contract rejected the commit (CI can tell bad data from a broken pipeline). */
  REJECTED: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const CODE_EXITS: Partial<Record<ErrorCode, ExitCode>> = {
  E_BAD_REQUEST: EXIT.USAGE,
  E_INVALID_NAME: EXIT.USAGE,
  E_INVALID_PATH: EXIT.USAGE,
  E_INVALID_REF: EXIT.USAGE,
  E_INVALID_HASH: EXIT.USAGE,
  E_INVALID_WEBHOOK: EXIT.USAGE,
  E_NOT_A_FILE: EXIT.USAGE,
  E_NOT_A_DIRECTORY: EXIT.USAGE,
  E_REPO_NOT_FOUND: EXIT.NOT_FOUND,
  E_BRANCH_NOT_FOUND: EXIT.NOT_FOUND,
  E_COMMIT_NOT_FOUND: EXIT.NOT_FOUND,
  E_PATH_NOT_FOUND: EXIT.NOT_FOUND,
  E_CHUNK_NOT_FOUND: EXIT.NOT_FOUND,
  E_WEBHOOK_NOT_FOUND: EXIT.NOT_FOUND,
  E_DELIVERY_NOT_FOUND: EXIT.NOT_FOUND,
  E_NOT_FOUND: EXIT.NOT_FOUND,
  E_REPO_EXISTS: EXIT.CONFLICT,
  E_BRANCH_EXISTS: EXIT.CONFLICT,
  E_CONFLICT: EXIT.CONFLICT,
  E_AMBIGUOUS_REF: EXIT.CONFLICT,
  E_DELIVERY_PENDING: EXIT.CONFLICT,
  E_PATH_CONFLICT: EXIT.CONFLICT,
  E_CORRUPT_OBJECT: EXIT.INTEGRITY,
  E_OBJECT_NOT_FOUND: EXIT.INTEGRITY,
  E_CHUNK_HASH_MISMATCH: EXIT.INTEGRITY,
  E_TRUNCATED_UPLOAD: EXIT.INTEGRITY,
  E_STORE_UNAVAILABLE: EXIT.UNAVAILABLE,
  E_STORAGE_FULL: EXIT.UNAVAILABLE,
  E_INVALID_CONTRACT: EXIT.USAGE,
  E_CONTRACT_NOT_FOUND: EXIT.NOT_FOUND,
  E_CONTRACT_VIOLATION: EXIT.REJECTED,
};

/** Commander's own errors carry a `code` like `commander.unknownOption` and an `exitCode`. */
function commanderCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('commander.') ? code : undefined;
}

export function exitCodeFor(err: unknown): ExitCode {
  const cmd = commanderCode(err);
  if (cmd) return cmd === 'commander.helpDisplayed' || cmd === 'commander.version' ? EXIT.OK : EXIT.USAGE;
  if (isUnreachable(err)) return EXIT.UNAVAILABLE;
  if (err instanceof DatactlError) return CODE_EXITS[err.code] ?? EXIT.GENERIC;
  return EXIT.GENERIC;
}

/** The one-line message for stderr (without the `datactl: ` prefix). */
export function errorMessage(err: unknown): string {
  if (err instanceof DatactlError) return hint(err) ? `${err.message} (${hint(err)})` : err.message;
  if (isSystemError(err)) return err.message; // "ENOENT: no such file or directory, open 'x'" says it all
  if (err instanceof Error) return `internal error: ${err.message}`;
  return `internal error: ${String(err)}`;
}

/** Errors from the OS (file system, sockets): they carry an errno-style code and a syscall. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

function hint(err: DatactlError): string | undefined {
  if (isUnreachable(err)) return 'is it running? set --server or DATACTL_URL';
  if (err.code === 'E_CHUNKS_MISSING') return 'another upload may have raced this one; retry the command';
  if (err.code === 'E_STORAGE_FULL') return 'the server is out of space: free some there, then retry';
  return undefined;
}

export interface ErrorSink {
  write(text: string): unknown;
}

/**
 * Report an error and return the exit code. Commander has already printed its own usage errors,
 * so those only produce the code. `debug` adds the stack trace of unexpected errors.
 */
export function reportError(err: unknown, stderr: ErrorSink, debug = false): ExitCode {
  const code = exitCodeFor(err);
  if (commanderCode(err)) return code;
  stderr.write(`datactl: ${errorMessage(err)}\n`);
  if (debug && err instanceof Error && !(err instanceof DatactlError) && !isSystemError(err) && err.stack) stderr.write(`${err.stack}\n`);
  return code;
}
