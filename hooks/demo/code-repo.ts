/**
 * The demo's code repo: a local bare git repo seeded with an empty pin file, whose `post-receive`
 * hook starts training on every push to `main`. git runs as a plain child process with every
 * GIT_* variable removed (so a surrounding hook's GIT_DIR cannot redirect it) and, for the seed
 * commit, an explicit identity (CI machines have no global git config).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CODE_BRANCH = 'main';
export const PIN_FILE = 'configuration/data.json';
export const PIN_KEY = 'train';

const SEED_IDENTITY = ['-c', 'user.name=datactl demo', '-c', 'user.email=demo@localhost', '-c', 'commit.gpgsign=false'];

/** The environment minus GIT_*: git finds its repo from the arguments, never from a caller. */
export function cleanGitEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !/^git_/i.test(key)));
}

/** `git <args>`; stdout on success, an Error naming the subcommand and git's stderr otherwise. */
export async function git(args: string[], cwd?: string): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd, env: cleanGitEnv(), maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const sub = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '-c' && args[i - 1] !== '--git-dir') ?? 'command';
    throw new Error(`git ${sub} failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

/** Create `<dir>/code.git` (branch main) holding one commit: `{}` as the pin file and a README. */
export async function createCodeRepo(dir: string): Promise<string> {
  const bare = join(dir, 'code.git');
  await git(['init', '-q', '--bare', '--initial-branch', CODE_BRANCH, bare]);
  const seed = join(dir, 'seed-clone');
  await git(['clone', '-q', bare, seed]);
  await mkdir(join(seed, 'configuration'), { recursive: true });
  await writeFile(join(seed, PIN_FILE), '{}\n');
  await writeFile(join(seed, 'README.md'), SEED_README);
  await git([...SEED_IDENTITY, 'add', '--', PIN_FILE, 'README.md'], seed);
  await git([...SEED_IDENTITY, 'commit', '-q', '-m', 'seed: an empty pin file'], seed);
  await git(['push', '-q', 'origin', `HEAD:refs/heads/${CODE_BRANCH}`], seed);
  await rm(seed, { recursive: true, force: true });
  return bare;
}

const SEED_README = `# housing model (datactl demo)

\`${PIN_FILE}\` pins the training data; datactl's git target commits a new pin for every data
commit, and this repo's post-receive hook retrains on every push to ${CODE_BRANCH}.
`;

export interface TrainHook {
  /** The node binary and the built training script (dist/hooks/demo/train.js). */
  node: string;
  trainScript: string;
  serverUrl: string;
  /** Models, training logs (`train-<sha12>.log`) and exit codes (`train-<sha12>.exit`) go here. */
  modelsDir: string;
}

/**
 * Install `hooks/post-receive`: for each push to main, train in the background on the new rev.
 * Background, because a push (here: the pin bumper's) should not wait for training; the child's
 * output goes to a log file, not git's pipes, so git does not wait for it either. The exit code is
 * written (temp file + rename) once training ends, which is what the demo waits for.
 */
export async function installTrainHook(bare: string, hook: TrainHook): Promise<void> {
  const q = shellQuote;
  const models = q(hook.modelsDir);
  const script = `#!/bin/sh
# post-receive, written by the datactl demo: retrain on every push to ${CODE_BRANCH}.
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES GIT_QUARANTINE_PATH
while read -r old new ref; do
  [ "$ref" = refs/heads/${CODE_BRANCH} ] || continue
  case "$new" in *[!0]*) ;; *) continue ;; esac   # a deleted branch: nothing to train
  short=$(printf '%.12s' "$new")
  (
    DATACTL_URL=${q(hook.serverUrl)} ${q(hook.node)} ${q(hook.trainScript)} \\
      --git-dir ${q(bare)} --rev "$new" --models ${models} --pin-file ${q(PIN_FILE)} --key ${q(PIN_KEY)}
    echo $? > ${models}/"train-$short.exit.tmp" && mv ${models}/"train-$short.exit.tmp" ${models}/"train-$short.exit"
  ) </dev/null >${models}/"train-$short.log" 2>&1 &
done
`;
  await mkdir(hook.modelsDir, { recursive: true });
  const file = join(bare, 'hooks', 'post-receive');
  await writeFile(file, script);
  await chmod(file, 0o755);
}

/** Single-quote for sh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The commit id `ref` names in the bare repo, or undefined when it does not exist. */
export async function revParse(bare: string, ref: string): Promise<string | undefined> {
  try {
    return (await git(['--git-dir', bare, 'rev-parse', '--verify', '-q', `${ref}^{commit}`])).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The text of `file` at `rev`. */
export function showFile(bare: string, rev: string, file: string): Promise<string> {
  return git(['--git-dir', bare, 'show', `${rev}:${file}`]);
}

/** The data commit pinned under `key` at `rev` (null when the key or its commit is absent). */
export async function pinnedCommitAt(bare: string, rev: string, file = PIN_FILE, key = PIN_KEY): Promise<string | null> {
  const doc = JSON.parse(await showFile(bare, rev, file)) as Record<string, { commit?: unknown } | undefined>;
  const commit = doc[key]?.commit;
  return typeof commit === 'string' ? commit : null;
}

/** One line of `git log` for `rev`: its subject. */
export async function subjectOf(bare: string, rev: string): Promise<string> {
  return (await git(['--git-dir', bare, 'log', '-1', '--format=%s', rev])).trim();
}

/** The commits of main that touched the pin file, oldest first, with what each pinned. */
export async function pinHistory(bare: string): Promise<Array<{ codeCommit: string; dataCommit: string | null }>> {
  const ids = (await git(['--git-dir', bare, 'log', '--format=%H', '--reverse', `refs/heads/${CODE_BRANCH}`, '--', PIN_FILE])).split('\n').filter(Boolean);
  return Promise.all(ids.map(async (codeCommit) => ({ codeCommit, dataCommit: await pinnedCommitAt(bare, codeCommit) })));
}
