/** `datactl hook serve`: the receiver as a real process, configured from a file. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signBody } from '../../src/webhooks/signature.js';
import { CLI_BIN, runCli } from '../helpers/cli.js';
import { gitSandbox, refsOf, showFile, type GitSandbox } from '../helpers/git.js';
import { commitEvent } from './events.js';

const built = existsSync(new URL('../../dist/cli/main.js', import.meta.url));
let sandbox: GitSandbox;
let dir: string;

beforeAll(async () => {
  sandbox = await gitSandbox();
  dir = await mkdtemp(path.join(os.tmpdir(), 'datactl-hook-cli-'));
});
afterAll(async () => {
  await sandbox?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

/** Resolve with the first match of `re` in the child's stderr, or reject when it exits first. */
function waitForStderr(child: ReturnType<typeof spawn>, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stderr!.on('data', (b: Buffer) => {
      text += b.toString();
      const m = re.exec(text);
      if (m) resolve(m);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing ${re}: ${text}`)));
  });
}

describe.skipIf(!built)('datactl hook serve', () => {
  it('exits 2 with a precise message for a bad config', async () => {
    const missing = await runCli(['hook', 'serve', '--config', path.join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read receiver config');
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ secret: 'x', workDir: 'w', mappings: [{ repo: 'images', target: { url: 'u', pinFile: '/abs', key: 'k' } }] }));
    const bad = await runCli(['hook', 'serve', '--config', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^datactl: invalid receiver config: mappings\[0\]\.target\.pinFile must be a relative path/);
  });

  it('serves signed deliveries from a config file, with the secret from the environment, and stops on SIGTERM', async () => {
    const url = await sandbox.bare();
    const file = path.join(dir, 'hook.json');
    const mapping = { repo: 'images', branch: '*', target: { url, branch: 'main', pinFile: 'configuration/data.json', key: 'train' } };
    await writeFile(file, JSON.stringify({ workDir: 'hook-work', mappings: [mapping] }));
    const child = spawn(process.execPath, [CLI_BIN, 'hook', 'serve', '--config', file, '--port', '0', '--log-level', 'warn'], {
      env: { ...process.env, DATACTL_HOOK_SECRET: 'env-secret' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      const [, base] = await waitForStderr(child, /listening on (http:\/\/\S+)\n/);
      const commit = 'c'.repeat(64);
      const body = JSON.stringify(commitEvent('images', 'main', commit));
      const res = await fetch(`${base}/`, { method: 'POST', body, headers: { 'X-Datactl-Signature-256': signBody('env-secret', body) } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { status: string }).status).toBe('pushed');
      expect(JSON.parse((await showFile(url, 'main', 'configuration/data.json'))!).train.commit).toBe(commit);
      expect(Object.keys(await refsOf(url))).toEqual(['refs/heads/main']);
      expect(existsSync(path.join(dir, 'hook-work', 'deliveries.log'))).toBe(true);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
