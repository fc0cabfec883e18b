/**
 * Run the real `datactl` binary (bin/datactl.js over dist/, so build first: `npm test` does) as a
 * child process and collect its exit code and output.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI_BIN = fileURLToPath(new URL('../../bin/datactl.js', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  /** stdout as bytes, for commands that write binary data there. */
  stdoutBytes: Buffer;
  stderr: string;
}

export interface RunCliOptions {
  /** Added to (and overriding) the parent environment. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed (stdin is empty when omitted). */
  input?: Buffer | string;
  cwd?: string;
}

export function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stdoutBytes: Buffer.concat(stdout),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined); // the CLI may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });
}
