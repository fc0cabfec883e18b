import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import { errorMessage, EXIT, exitCodeFor, reportError } from '../../cli/errors.js';
import { errorFromResponse, translateNetworkError } from '../../cli/http.js';

const err = (code: ConstructorParameters<typeof DatactlError>[0]) => new DatactlError(code, 'x');

function refused(): TypeError {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8080'), { code: 'ECONNREFUSED' });
  return new TypeError('fetch failed', { cause });
}

describe('exit codes', () => {
  it('are 2 for usage errors, from commander or from invalid names, paths and refs', () => {
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'unknown option'))).toBe(EXIT.USAGE);
    expect(exitCodeFor(new CommanderError(1, 'commander.missingArgument', 'missing'))).toBe(EXIT.USAGE);
    for (const code of ['E_BAD_REQUEST', 'E_INVALID_NAME', 'E_INVALID_PATH', 'E_INVALID_REF'] as const) {
      expect(exitCodeFor(err(code)), code).toBe(EXIT.USAGE);
    }
  });

  it('are 0 for --help and --version', () => {
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(EXIT.OK);
    expect(exitCodeFor(new CommanderError(0, 'commander.version', '0.1.0'))).toBe(EXIT.OK);
  });

  it('are 3 for anything not found', () => {
    for (const code of ['E_REPO_NOT_FOUND', 'E_BRANCH_NOT_FOUND', 'E_COMMIT_NOT_FOUND', 'E_PATH_NOT_FOUND'] as const) {
      expect(exitCodeFor(err(code)), code).toBe(EXIT.NOT_FOUND);
    }
  });

  it('are 4 for conflicts', () => {
    for (const code of ['E_REPO_EXISTS', 'E_BRANCH_EXISTS', 'E_CONFLICT', 'E_AMBIGUOUS_REF'] as const) {
      expect(exitCodeFor(err(code)), code).toBe(EXIT.CONFLICT);
    }
  });

  it('are 5 for integrity failures', () => {
    for (const code of ['E_CORRUPT_OBJECT', 'E_CHUNK_HASH_MISMATCH', 'E_TRUNCATED_UPLOAD'] as const) {
      expect(exitCodeFor(err(code)), code).toBe(EXIT.INTEGRITY);
    }
  });

  it('are 6 when the server cannot be reached or its store is down', () => {
    expect(exitCodeFor(translateNetworkError(refused(), 'http://127.0.0.1:8080'))).toBe(EXIT.UNAVAILABLE);
    expect(exitCodeFor(err('E_STORE_UNAVAILABLE'))).toBe(EXIT.UNAVAILABLE);
  });

  it('are 1 for server-internal errors and bugs', () => {
    expect(exitCodeFor(err('E_INTERNAL'))).toBe(EXIT.GENERIC);
    expect(exitCodeFor(new Error('boom'))).toBe(EXIT.GENERIC);
  });
});

describe('error reporting', () => {
  it('prints "datactl: <message>" on stderr and returns the exit code', () => {
    const lines: string[] = [];
    const code = reportError(new DatactlError('E_REPO_NOT_FOUND', 'repo "x" not found'), { write: (t) => lines.push(t) });
    expect(code).toBe(3);
    expect(lines).toEqual(['datactl: repo "x" not found\n']);
  });

  it('stays silent for commander errors, which commander already printed', () => {
    const lines: string[] = [];
    expect(reportError(new CommanderError(1, 'commander.unknownCommand', 'x'), { write: (t) => lines.push(t) })).toBe(2);
    expect(lines).toEqual([]);
  });

  it('says which server could not be reached, and why', () => {
    const translated = translateNetworkError(refused(), 'http://127.0.0.1:8080');
    expect(errorMessage(translated)).toContain('cannot reach datactl server at http://127.0.0.1:8080 (connection refused)');
  });

  it('shows OS errors as they are', () => {
    const e = Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: 'ENOENT', syscall: 'open' });
    expect(errorMessage(e)).toBe("ENOENT: no such file or directory, open 'x'");
    expect(exitCodeFor(e)).toBe(EXIT.GENERIC);
  });

  it('marks unexpected errors as internal', () => {
    expect(errorMessage(new Error('boom'))).toBe('internal error: boom');
  });

  it('passes errors that are not network failures through untouched', () => {
    const e = new RangeError('nope');
    expect(translateNetworkError(e, 'http://x')).toBe(e);
  });
});

describe('error responses', () => {
  it('become DatactlError with the server code, message and details', async () => {
    const body = { error: { code: 'E_CHUNKS_MISSING', message: '2 chunks missing', details: { missing: ['a', 'b'] } } };
    const e = await errorFromResponse(new Response(JSON.stringify(body), { status: 422 }), 'POST /v1/repos/r/commits');
    expect(e).toMatchObject({ code: 'E_CHUNKS_MISSING', message: '2 chunks missing', details: { missing: ['a', 'b'], status: 422 } });
  });

  it('fall back to the HTTP status when the body is not a datactl error', async () => {
    const e = await errorFromResponse(new Response('<html>bad gateway</html>', { status: 404 }), 'GET /x');
    expect(e.code).toBe('E_NOT_FOUND');
    expect(e.message).toBe('server answered HTTP 404 to GET /x (no datactl error in the answer: is this URL a datactl server, reached directly?)');
    expect((await errorFromResponse(new Response('', { status: 502 }), 'GET /x')).code).toBe('E_INTERNAL');
  });
});
