/**
 * The git pin bumper against real git: bare "remote" repos in temp dirs, a real datactl server
 * for ancestry, real pushes that race.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PinBumper, type PinBumperOptions, type PinTarget } from '../../hooks/pin-bumper/bumper.js';
import { cloneDirFor } from '../../hooks/pin-bumper/code-repo.js';
import { ancestry } from '../../cli/ancestry.js';
import { DatactlClient } from '../../cli/client.js';
import { fileHistory, git, gitSandbox, logOf, refsOf, showFile, type GitSandbox } from '../helpers/git.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { commitChain, commitEvent } from './events.js';

let server: TestServer;
let sandbox: GitSandbox;
let workRoot: string;
let chain: string[]; // data commits of images@main, oldest first
let client: DatactlClient;

beforeAll(async () => {
  server = await startTestServer();
  sandbox = await gitSandbox();
  workRoot = await mkdtemp(path.join(os.tmpdir(), 'datactl-bumper-'));
  chain = await commitChain(server.url, 'images', 'main', 4);
  client = new DatactlClient({ baseUrl: server.url });
});
afterAll(async () => {
  await server?.close();
  await sandbox?.cleanup();
  await rm(workRoot, { recursive: true, force: true });
});

let dirs = 0;
function bumper(logger?: PinBumperOptions['logger']): PinBumper {
  const isAncestor = async (repo: string, a: string, d: string) => (await ancestry(client, repo, a, d)).isAncestor;
  return new PinBumper({ workDir: path.join(workRoot, `w${++dirs}`), isAncestor, ...(logger ? { logger } : {}) });
}

const target = (url: string, key = 'train'): PinTarget => ({ url, branch: 'main', pinFile: 'configuration/data.json', key });
const event = (i: number) => commitEvent('images', 'main', chain[i]!);
const pinned = (text: string | undefined, key = 'train') => (JSON.parse(text ?? '{}') as Record<string, { commit: string }>)[key]?.commit;
const expectedIdentity = () =>
  `${process.env['GIT_AUTHOR_NAME'] || 'datactl'} <${process.env['GIT_AUTHOR_EMAIL'] || 'datactl@localhost'}>`;

/** Commit files to `branch` of `url` from a fresh clone, as a developer would. */
async function pushFiles(url: string, files: Record<string, string>, message = 'developer change'): Promise<void> {
  const dir = await sandbox.clone(url);
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  await git(dir).raw(['add', '-A']);
  await git(dir).raw(['commit', '-q', '-m', message]);
  await git(dir).raw(['push', '-q', 'origin', 'HEAD:refs/heads/main']);
}

describe('the git pin bumper', () => {
  it('writes the pin into an empty bare repo, creating the branch and the file, with the exact message and trailers', async () => {
    const url = await sandbox.bare();
    const result = await bumper().bump(target(url), event(0));
    expect(result.status).toBe('pushed');
    const refs = await refsOf(url);
    expect(refs['refs/heads/main']).toBe(result.codeCommit);
    expect(await showFile(url, 'main', 'configuration/data.json')).toBe(
      `{\n  "train": {\n    "repo": "images",\n    "branch": "main",\n    "commit": "${chain[0]}"\n  }\n}\n`,
    );
    const [commit] = await logOf(url, 'main');
    expect(commit!.body).toBe(
      `data: pin train to images@${chain[0]!.slice(0, 12)}\n\nData-Repo: images\nData-Branch: main\nData-Commit: ${chain[0]}`,
    );
    expect(commit!.author).toBe(expectedIdentity());
    expect(commit!.committer).toBe(`${process.env['GIT_COMMITTER_NAME'] || process.env['GIT_AUTHOR_NAME'] || 'datactl'} <${process.env['GIT_COMMITTER_EMAIL'] || process.env['GIT_AUTHOR_EMAIL'] || 'datactl@localhost'}>`);
  });

  it('keeps every other key in its place and writes stable 2-space JSON with a trailing newline', async () => {
    const url = await sandbox.bare();
    await pushFiles(url, {
      'configuration/data.json': '{"zeta":1,"train":{"repo":"old","branch":"x","commit":"y"},"alpha":{"list":[1,2],"s":"é"}}',
      'README.md': 'hello\n',
    });
    await bumper().bump(target(url), event(1));
    const text = await showFile(url, 'main', 'configuration/data.json');
    const expected = { zeta: 1, train: { repo: 'images', branch: 'main', commit: chain[1] }, alpha: { list: [1, 2], s: 'é' } };
    expect(text).toBe(`${JSON.stringify(expected, null, 2)}\n`);
    expect(Object.keys(JSON.parse(text!))).toEqual(['zeta', 'train', 'alpha']);
    expect(await showFile(url, 'main', 'README.md')).toBe('hello\n');
  });

  it('applies the same event twice as one code commit (the second is unchanged)', async () => {
    const url = await sandbox.bare();
    const b = bumper();
    const e = event(1);
    expect((await b.bump(target(url), e)).status).toBe('pushed');
    const refs = await refsOf(url);
    const again = await b.bump(target(url), e);
    expect(again.status).toBe('unchanged');
    expect(again.codeCommit).toBeUndefined();
    expect(await refsOf(url)).toEqual(refs);
    expect(await logOf(url, 'main')).toHaveLength(1);
    // A second bumper with its own clone agrees.
    expect((await bumper().bump(target(url), e)).status).toBe('unchanged');
  });

  it('acknowledges an older commit after a newer one as ignored-older: nothing pushed, pin unchanged', async () => {
    const url = await sandbox.bare();
    const b = bumper();
    await b.bump(target(url), event(2));
    const refs = await refsOf(url);
    const older = await b.bump(target(url), event(0));
    expect(older.status).toBe('ignored-older');
    expect(older.message).toContain('not moving train backward');
    expect(await refsOf(url)).toEqual(refs);
    expect(pinned(await showFile(url, 'main', 'configuration/data.json'))).toBe(chain[2]);
  });

  it('moves forward, and without an ancestry check moves to whatever arrives', async () => {
    const url = await sandbox.bare();
    const b = bumper();
    await b.bump(target(url), event(0));
    expect((await b.bump(target(url), event(3))).status).toBe('pushed');
    const blind = new PinBumper({ workDir: path.join(workRoot, `w${++dirs}`) });
    expect((await blind.bump(target(url), event(1))).status).toBe('pushed');
    expect(pinned(await showFile(url, 'main', 'configuration/data.json'))).toBe(chain[1]);
  });

  it('retries when the code branch moves between its fetch and its push, keeping the other push', async () => {
    const url = await sandbox.bare();
    const workDir = path.join(workRoot, `w${++dirs}`);
    const isAncestor = async (repo: string, a: string, d: string) => (await ancestry(client, repo, a, d)).isAncestor;
    const b = new PinBumper({ workDir, isAncestor });
    await b.bump(target(url), event(0));
    // A developer's commit, ready to push; a post-commit hook in the bumper's clone pushes it
    // once, right after the bumper committed and before it pushes.
    const other = await sandbox.clone(url);
    await writeFile(path.join(other, 'train.py'), 'print("train")\n');
    await git(other).raw(['add', '-A']);
    await git(other).raw(['commit', '-q', '-m', 'developer change']);
    const marker = path.join(sandbox.root, `hook-ran-${dirs}`);
    const hook = path.join(cloneDirFor(workDir, url), '.git', 'hooks', 'post-commit');
    await mkdir(path.dirname(hook), { recursive: true });
    await writeFile(
      hook,
      `#!/bin/sh\n[ -e '${marker}' ] && exit 0\n: > '${marker}'\nunset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE GIT_PREFIX\ncd '${other}' && git push -q origin HEAD:refs/heads/main\n`,
    );
    await chmod(hook, 0o755);

    const warnings: string[] = [];
    const logged = new PinBumper({ workDir, isAncestor, logger: { info() {}, warn: (_o, m) => warnings.push(m ?? '') } });
    const result = await logged.bump(target(url), event(2));
    expect(result.status).toBe('pushed');
    expect(warnings).toContain('code branch moved during the bump; fetching and re-applying');
    const log = await logOf(url, 'main');
    expect(log.map((c) => c.body.split('\n')[0])).toEqual([
      `data: pin train to images@${chain[2]!.slice(0, 12)}`,
      'developer change',
      `data: pin train to images@${chain[0]!.slice(0, 12)}`,
    ]);
    expect(await showFile(url, 'main', 'train.py')).toBe('print("train")\n');
    expect(pinned(await showFile(url, 'main', 'configuration/data.json'))).toBe(chain[2]);
  });

  it('bumps two data commits concurrently to the newer one, never moving the pin backward', async () => {
    for (const order of [[1, 2], [2, 1], [3, 0, 2, 1]]) {
      const url = await sandbox.bare();
      const b = bumper();
      await Promise.all(order.map((i) => b.bump(target(url), event(i))));
      const newest = Math.max(...order);
      const history = (await fileHistory(url, 'main', 'configuration/data.json')).map((t) => chain.indexOf(pinned(t)!));
      expect(history.at(-1)).toBe(newest);
      expect(history).toEqual([...history].sort((x, y) => x - y));
    }
  });

  it('lets two bumpers with their own clones race on one code repo without losing a push', async () => {
    const url = await sandbox.bare();
    const [a, b] = [bumper(), bumper()];
    const bumps: Promise<unknown>[] = [];
    for (let i = 0; i < 4; i++) {
      bumps.push(a.bump(target(url, 'train'), event(i)), b.bump(target(url, 'eval'), event(3 - i)));
    }
    await Promise.all(bumps);
    const doc = JSON.parse((await showFile(url, 'main', 'configuration/data.json'))!) as Record<string, { commit: string }>;
    expect(doc['train']!.commit).toBe(chain[3]);
    // eval got 3 first; the later, older ones were ignored.
    expect(doc['eval']!.commit).toBe(chain[3]);
    const history = await fileHistory(url, 'main', 'configuration/data.json');
    const trainSteps = history.map((t) => chain.indexOf(pinned(t, 'train')!));
    expect(trainSteps.filter((i) => i >= 0)).toEqual([...trainSteps.filter((i) => i >= 0)].sort((x, y) => x - y));
  });

  it('starts the branch afresh when it was deleted on the remote, not from stale local files', async () => {
    const url = await sandbox.bare();
    const b = bumper();
    await b.bump(target(url, 'eval'), event(0));
    await git(url).raw(['update-ref', '-d', 'refs/heads/main']);
    expect((await b.bump(target(url), event(1))).status).toBe('pushed');
    expect(JSON.parse((await showFile(url, 'main', 'configuration/data.json'))!)).toEqual({ train: { repo: 'images', branch: 'main', commit: chain[1] } });
    expect(await logOf(url, 'main')).toHaveLength(1);
  });

  it('refuses a pin file that is not a JSON object, and a pin file path outside the repo', async () => {
    const url = await sandbox.bare();
    await pushFiles(url, { 'configuration/data.json': '[1, 2]\n' });
    const refs = await refsOf(url);
    await expect(bumper().bump(target(url), event(0))).rejects.toThrow(/configuration\/data.json must hold a JSON object/);
    await expect(bumper().bump({ ...target(url), pinFile: '../escape.json' }, event(0))).rejects.toThrow(/pinFile must be a relative path/);
    await expect(bumper().bump({ ...target(url), pinFile: '.git/config' }, event(0))).rejects.toThrow(/pinFile/);
    expect(await refsOf(url)).toEqual(refs);
  });

  it('never shows URL credentials in errors or logs', async () => {
    const port = await closedPort();
    const url = `http://alice:s3cret-token@127.0.0.1:${port}/code.git`;
    const lines: string[] = [];
    const logger = { info: (o: object, m?: string) => lines.push(JSON.stringify(o) + (m ?? '')), warn: (o: object, m?: string) => lines.push(JSON.stringify(o) + (m ?? '')) };
    const failures: Error[] = [];
    for (const t of [target(url), { ...target(url), branch: 'bad..branch' }]) {
      failures.push(await bumper(logger).bump(t, event(0)).then(() => new Error('no failure'), (e: unknown) => e as Error));
    }
    expect(failures[0]!.message).toMatch(/^git fetch failed/);
    expect(failures[1]!.message).toContain(`http://***@127.0.0.1:${port}/code.git`);
    for (const err of failures) {
      expect(err.message).not.toContain('s3cret-token');
      expect(err.stack ?? '').not.toContain('s3cret-token');
    }
    expect(lines.some((line) => line.includes('//***@127.0.0.1'))).toBe(true);
    for (const line of lines) expect(line).not.toContain('s3cret-token');
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as { port: number };
  await new Promise((resolve) => s.close(resolve));
  return port;
}
