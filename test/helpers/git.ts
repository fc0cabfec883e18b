/**
 * Git fixtures for tests: bare "remote" repos in temp dirs, clones, commits and ref reads, all
 * through simple-git with an explicit identity (CI machines have no global git config).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';

const IDENTITY = ['user.name=Test Person', 'user.email=test@example.com', 'commit.gpgsign=false'];

export function git(dir: string): SimpleGit {
  return simpleGit({ baseDir: dir, config: IDENTITY });
}

export interface GitSandbox {
  root: string;
  /** A new empty bare repo whose HEAD names `main`; returns its path (usable as a git URL). */
  bare(name?: string): Promise<string>;
  /** A fresh clone of `url`, at `main` when it exists. */
  clone(url: string, name?: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function gitSandbox(): Promise<GitSandbox> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'datactl-git-'));
  let n = 0;
  return {
    root,
    async bare(name = `remote-${++n}.git`) {
      const dir = path.join(root, name);
      await simpleGit().raw(['init', '-q', '--bare', '--initial-branch=main', dir]);
      return dir;
    },
    async clone(url, name = `clone-${++n}`) {
      const dir = path.join(root, name);
      await simpleGit({ config: IDENTITY }).raw(['clone', '-q', url, dir]);
      return dir;
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Every ref of a (bare) repo as `name -> id`, to prove that nothing was pushed. */
export async function refsOf(dir: string): Promise<Record<string, string>> {
  const out = await git(dir).raw(['for-each-ref', '--format=%(refname) %(objectname)']);
  return Object.fromEntries(out.split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]));
}

/** The commits of `branch`, newest first, as full message bodies with author and id. */
export async function logOf(dir: string, branch: string): Promise<Array<{ id: string; author: string; committer: string; body: string }>> {
  const sep = '\x1e';
  const out = await git(dir).raw(['log', `--format=%H%x1f%an <%ae>%x1f%cn <%ce>%x1f%B${sep}`, `refs/heads/${branch}`]);
  return out
    .split(sep)
    .map((s) => s.replace(/^\n/, ''))
    .filter(Boolean)
    .map((entry) => {
      const [id, author, committer, body] = entry.split('\x1f') as [string, string, string, string];
      return { id, author, committer, body: body.replace(/\n+$/, '') };
    });
}

/** A file's content at the tip of `branch` (undefined when absent). */
export async function showFile(dir: string, branch: string, file: string): Promise<string | undefined> {
  try {
    return await git(dir).raw(['show', `refs/heads/${branch}:${file}`]);
  } catch {
    return undefined;
  }
}

/** Every version of a file on `branch`, oldest first (one per commit that touched it). */
export async function fileHistory(dir: string, branch: string, file: string): Promise<string[]> {
  const ids = (await git(dir).raw(['log', '--format=%H', '--reverse', `refs/heads/${branch}`, '--', file])).split('\n').filter(Boolean);
  return Promise.all(ids.map((id) => git(dir).raw(['show', `${id}:${file}`])));
}
