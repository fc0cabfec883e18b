/**
 * The bumper's private clone of one code repo: fetch one branch, reset to it hard (or start an
 * empty history when the remote has no such branch yet), write one file, commit, push. The push
 * is a plain fast-forward push, so git itself is the compare-and-swap: if the code branch moved
 * since the fetch, the push is rejected and the caller starts over from a fresh fetch.
 *
 * Commands run without `-q` on purpose: simple-git waits an extra 50 ms after any git command
 * that printed nothing, which would triple the latency of a bump.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { GitCommandError, GitRunner } from './git.js';

/** Local branch used only while the remote branch does not exist yet. */
const UNBORN_REF = 'refs/heads/datactl-pin-unborn';

/** The clone directory for a code repo URL: named by a hash, so credentials never reach a path. */
export function cloneDirFor(workDir: string, url: string): string {
  return join(workDir, 'repos', createHash('sha256').update(url).digest('hex').slice(0, 16));
}

export type PushOutcome = 'pushed' | 'rejected';

export class CodeRepo {
  /** Whether the work tree may hold files no commit tracks (see syncTo). */
  private stray = true;

  private constructor(private readonly git: GitRunner) {}

  get dir(): string {
    return this.git.dir;
  }

  /** Open (or create: `git init` + the origin remote) the clone of `url` under `workDir`. */
  static async open(workDir: string, url: string, env?: Record<string, string>): Promise<CodeRepo> {
    const dir = cloneDirFor(workDir, url);
    await mkdir(dir, { recursive: true });
    const git = new GitRunner(dir, env);
    if (!existsSync(join(dir, '.git'))) await git.run(['init', '-q']);
    // Set every time: repairs a clone whose first open crashed between init and this line.
    await git.run(['config', 'remote.origin.url', url]);
    return new CodeRepo(git);
  }

  /**
   * Make the work tree exactly `origin/<branch>` (fetched now), or empty when the remote has no
   * such branch. Returns whether the branch exists remotely.
   */
  async syncTo(branch: string): Promise<boolean> {
    // We hold the only lock on this clone; a lock file can only be left by a crash.
    await rm(join(this.dir, '.git', 'index.lock'), { force: true });
    const tracking = `refs/remotes/origin/${branch}`;
    const exists = await this.fetchBranch(branch, tracking);
    if (exists) {
      await this.git.run(['checkout', '-f', '--detach', tracking]);
    } else {
      await this.git.run(['update-ref', '-d', tracking]).catch(() => undefined);
      await this.git.run(['symbolic-ref', 'HEAD', UNBORN_REF]);
      await this.git.run(['update-ref', '-d', UNBORN_REF]).catch(() => undefined);
      await this.git.run(['read-tree', '--empty']);
      this.stray = true; // files of an earlier checkout are untracked now
    }
    // `checkout -f` resets tracked files; untracked ones exist only after an attempt that wrote
    // the pin file and failed before committing it, a crash, or an emptied index: clean only then.
    if (this.stray) await this.git.run(['clean', '-q', '-ffdx']);
    this.stray = false;
    return exists;
  }

  /** Read a file of the work tree; undefined when absent. */
  async readFile(relPath: string): Promise<string | undefined> {
    const full = await this.safePath(relPath, false);
    return readFile(full, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
  }

  /** Write a file (creating parent directories), stage and commit it; returns the commit id. */
  async commitFile(relPath: string, content: string, message: string): Promise<string> {
    const full = await this.safePath(relPath, true);
    this.stray = true;
    await writeFile(full, content);
    await this.git.run(['add', '--verbose', '-f', '--', relPath]);
    await this.git.run(['commit', '--no-verify', '-m', message]);
    this.stray = false;
    return (await this.git.run(['rev-parse', 'HEAD'])).trim();
  }

  /** Fast-forward push of HEAD to `<branch>`; 'rejected' when the branch moved (retry). */
  async push(branch: string): Promise<PushOutcome> {
    try {
      await this.git.run(['push', '--no-verify', 'origin', `HEAD:refs/heads/${branch}`]);
      return 'pushed';
    } catch (err) {
      if (err instanceof GitCommandError && isMovedBranch(err.output)) return 'rejected';
      throw err;
    }
  }

  private async fetchBranch(branch: string, tracking: string): Promise<boolean> {
    try {
      await this.git.run(['fetch', '--verbose', '--no-tags', 'origin', `+refs/heads/${branch}:${tracking}`]);
      return true;
    } catch (err) {
      if (err instanceof GitCommandError && /couldn't find remote ref/i.test(err.output)) return false;
      throw err;
    }
  }

  /**
   * The absolute path of a work-tree file, refusing anything that leaves the work tree, also
   * through a symlinked directory or file committed in the code repo.
   */
  private async safePath(relPath: string, createDirs: boolean): Promise<string> {
    const full = join(this.dir, relPath);
    if (createDirs) await mkdir(dirname(full), { recursive: true });
    const root = await realpath(this.dir);
    const parent = await realpath(dirname(full)).catch(() => undefined);
    if (parent !== undefined && parent !== root && !parent.startsWith(root + sep)) {
      throw new Error(`refusing to write ${relPath}: its directory resolves outside the clone`);
    }
    const info = await lstat(full).catch(() => undefined);
    if (info?.isSymbolicLink()) throw new Error(`refusing to write ${relPath}: it is a symbolic link`);
    return full;
  }
}

/** Push failures that mean "the branch moved since the fetch": fetch, re-apply, push again. */
function isMovedBranch(output: string): boolean {
  return /\[rejected\]|non-fast-forward|fetch first|cannot lock ref|failed to update ref|incorrect old value|stale info/i.test(output);
}
