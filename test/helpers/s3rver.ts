import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export interface S3rverHandle {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

const START_DEADLINE_MS = 15_000;

/**
 * Start s3rver as a separate process on 127.0.0.1 and a kernel-chosen port (`--port 0`; its CLI
 * prints "S3rver listening on ADDR:PORT" even with --silent), wait until it answers HTTP, and
 * return its endpoint. s3rver accepts the fixed credentials S3RVER/S3RVER.
 */
export async function startS3rver(): Promise<S3rverHandle> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'datactl-s3rver-'));
  const cli = path.join(path.dirname(createRequire(import.meta.url).resolve('s3rver/package.json')), 'bin', 's3rver.js');
  const child = spawn(process.execPath, [cli, '--address', '127.0.0.1', '--port', '0', '--directory', dir, '--silent'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async (): Promise<void> => {
    await killAndWait(child);
    await fs.rm(dir, { recursive: true, force: true });
  };
  try {
    const port = await listeningPort(child);
    const endpoint = `http://127.0.0.1:${port}`;
    await waitForHttp(endpoint);
    return { endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Resolve with the port from s3rver's "listening on" line; reject if it exits or the deadline passes. */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let errOut = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within ${START_DEADLINE_MS} ms: ${errOut}`)), START_DEADLINE_MS);
    child.stderr?.on('data', (d: Buffer) => (errOut += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on \S+:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with code ${code}: ${errOut}`));
    });
  });
}

/** Poll until the endpoint answers any HTTP response, with a deadline (no fixed sleeps). */
async function waitForHttp(endpoint: string): Promise<void> {
  const deadline = Date.now() + START_DEADLINE_MS;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`s3rver at ${endpoint} never answered: ${String(err)}`);
      await new Promise((r) => setTimeout(r, delay)); // back-off between polls, bounded by the deadline
    }
  }
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
