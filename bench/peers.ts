/**
 * The peers datactl is measured against, each an adapter behind the Tool interface:
 *   cp         the copy limit: the data copied into a fresh directory (what any store must at least do)
 *   cp+sync    the same followed by syncfs, since datactl's server fsyncs what it stores
 *   b3sum      the hashing limit: BLAKE3 of every byte (datactl hashes with the same function)
 *   restic     restic backup / restore into a fresh local repo, no compression
 *   borg       borg create / extract, unencrypted repo, --compression none
 *   git-lfs    git add + commit with Git LFS tracking the data files; get = git clone of the repo
 * A peer that is not installed probes as missing with the package to install; it is reported,
 * never silently dropped.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { diskUsage, runTimed, type RunOptions } from './measure.js';
import type { Probe, Target, Tool } from './tool.js';

const execFileP = promisify(execFile);

/** The first line `cmd args` prints, or undefined when it cannot run. */
async function versionOf(cmd: string, args: string[]): Promise<string | undefined> {
  const r = await execFileP(cmd, args).catch(() => undefined);
  return r ? (r.stdout || r.stderr).trim().split('\n')[0] : undefined;
}

async function probeCommand(cmd: string, args: string[], pkg: string): Promise<Probe> {
  const version = await versionOf(cmd, args);
  return version ? { available: true, version } : { available: false, reason: `missing (apt-get install ${pkg})` };
}

/** A session whose store is a directory the tool writes into. */
async function dirs(dir: string) {
  const stageDir = join(dir, 'stage');
  const store = join(dir, 'store');
  await mkdir(stageDir, { recursive: true });
  await mkdir(store, { recursive: true });
  return { stageDir, store };
}

/** `cp -a` of the staged data into store/v<N>; get copies the latest back out. */
function copyTool(name: string, sync: boolean): Tool {
  // syncfs (sync -f) flushes the whole file system: on a shared machine that may include other
  // writers' dirty pages, so this row is the noisier of the two.
  const copy = (from: string, to: string) =>
    sync ? runTimed('sh', ['-c', 'cp -a "$1" "$2" && sync -f "$2"', 'sh', from, to]) : runTimed('cp', ['-a', from, to]);
  return {
    name,
    what: { put: sync ? 'cp -a into a fresh dir, then sync -f' : 'cp -a into a fresh dir', get: sync ? 'cp -a back out, then sync -f' : 'cp -a back out' },
    probe: () => probeCommand('cp', ['--version'], 'coreutils'),
    async open(dir) {
      const { stageDir, store } = await dirs(dir);
      let version = 0;
      return {
        stageDir,
        async put(t) {
          const into = join(store, `v${++version}`);
          await mkdir(into);
          return copy(join(stageDir, t.name), join(into, t.name));
        },
        get: (t, outDir) => copy(join(store, `v${version}`, t.name), join(outDir, t.name)),
        storeBytes: () => diskUsage(store),
        close: async () => undefined,
      };
    },
  };
}

function b3sumTool(): Tool {
  return {
    name: 'b3sum',
    what: { put: 'b3sum of every file (BLAKE3, multi-threaded)', get: 'n/a' },
    probe: () => probeCommand('b3sum', ['--version'], 'b3sum'),
    async open(dir) {
      const { stageDir } = await dirs(dir);
      return {
        stageDir,
        put: (t: Target) =>
          t.kind === 'file'
            ? runTimed('b3sum', [join(stageDir, t.name)])
            : runTimed('sh', ['-c', 'cd "$1" && find . -type f -print0 | xargs -0 b3sum > /dev/null', 'sh', join(stageDir, t.name)]),
        storeBytes: async () => undefined,
        close: async () => undefined,
      };
    },
  };
}

function resticTool(): Tool {
  let compressionFlag: string[] = [];
  return {
    name: 'restic',
    what: { put: 'restic backup (fresh local repo; the v2 step is the second backup)', get: 'restic restore latest' },
    async probe() {
      const probe = await probeCommand('restic', ['version'], 'restic');
      // --compression exists from restic 0.14 on, for repository format 2 only.
      const help = probe.available ? await versionOf('sh', ['-c', 'restic backup --help | grep -c -- --compression']) : undefined;
      compressionFlag = Number(help) > 0 ? ['--compression', 'off'] : [];
      return probe.available ? { ...probe, version: `${probe.version}${compressionFlag.length ? ', --compression off' : ', no compression support'}` } : probe;
    },
    async open(dir) {
      const { stageDir, store } = await dirs(dir);
      const opts: RunOptions = {
        cwd: stageDir,
        env: { RESTIC_PASSWORD: 'datactl-bench', RESTIC_REPOSITORY: store, RESTIC_CACHE_DIR: join(dir, 'cache') },
      };
      const v2 = compressionFlag.length ? ['--repository-version', '2'] : [];
      await runTimed('restic', ['init', '--quiet', ...v2], opts);
      return {
        stageDir,
        put: (t) => runTimed('restic', ['backup', '--quiet', ...compressionFlag, t.name], opts),
        get: (_t, outDir) => runTimed('restic', ['restore', 'latest', '--quiet', '--target', outDir], opts),
        storeBytes: () => diskUsage(store),
        close: async () => undefined,
      };
    },
  };
}

function borgTool(): Tool {
  return {
    name: 'borg',
    what: { put: 'borg create --compression none (unencrypted repo)', get: 'borg extract' },
    probe: () => probeCommand('borg', ['--version'], 'borgbackup'),
    async open(dir) {
      const { stageDir, store } = await dirs(dir);
      const env = {
        BORG_BASE_DIR: join(dir, 'borg-home'), // cache, keys and security dirs stay inside the session
        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
        BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
      };
      const repo = join(store, 'repo');
      await runTimed('borg', ['init', '-e', 'none', repo], { env });
      let version = 0;
      return {
        stageDir,
        put: (t) => runTimed('borg', ['create', '--compression', 'none', `${repo}::v${++version}`, t.name], { cwd: stageDir, env }),
        get: (_t, outDir) => runTimed('borg', ['extract', `${repo}::v${version}`], { cwd: outDir, env }),
        storeBytes: () => diskUsage(store),
        close: async () => undefined,
      };
    },
  };
}

/**
 * Git config for every git command of a session, through GIT_CONFIG_* (git >= 2.31): the LFS
 * filters (so no global `git lfs install` is needed), an identity, and no automatic gc, which
 * would otherwise start in the background after 100k loose objects and run into the next step.
 */
function gitEnv(home: string): NodeJS.ProcessEnv {
  const config: [string, string][] = [
    ['filter.lfs.clean', 'git-lfs clean -- %f'],
    ['filter.lfs.smudge', 'git-lfs smudge -- %f'],
    ['filter.lfs.process', 'git-lfs filter-process'],
    ['filter.lfs.required', 'true'],
    ['user.name', 'datactl bench'],
    ['user.email', 'bench@localhost'],
    ['gc.auto', '0'],
    ['init.defaultBranch', 'main'],
  ];
  const env: NodeJS.ProcessEnv = { HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_COUNT: String(config.length) };
  config.forEach(([k, v], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = k;
    env[`GIT_CONFIG_VALUE_${i}`] = v;
  });
  return env;
}

function gitLfsTool(): Tool {
  return {
    name: 'git-lfs',
    what: { put: 'git add -A + git commit, LFS tracking *.csv *.parquet *.json', get: 'git clone of the repo (LFS smudge from its local store)' },
    async probe() {
      const git = await probeCommand('git', ['--version'], 'git');
      const lfs = await probeCommand('git-lfs', ['version'], 'git-lfs');
      if (!git.available) return git;
      return lfs.available ? { available: true, version: `${git.version}, ${lfs.version}` } : lfs;
    },
    async open(dir) {
      const { stageDir: repo } = await dirs(dir);
      await mkdir(join(dir, 'home'));
      const opts: RunOptions = { cwd: repo, env: gitEnv(join(dir, 'home')) };
      const setup = 'git init -q && git lfs track "*.csv" "*.parquet" "*.json" > /dev/null && git add .gitattributes && git commit -q -m setup';
      await runTimed('sh', ['-c', setup], opts);
      let version = 0;
      return {
        stageDir: repo,
        put: () => runTimed('sh', ['-c', `git add -A && git commit -q -m v${++version}`], opts),
        get: (_t, outDir) => runTimed('git', ['clone', '-q', repo, join(outDir, 'clone')], opts),
        storeBytes: () => diskUsage(join(repo, '.git')),
        close: async () => undefined,
      };
    },
  };
}

/** Every peer, in report order. */
export function peers(): Tool[] {
  return [copyTool('cp', false), copyTool('cp+sync', true), b3sumTool(), resticTool(), borgTool(), gitLfsTool()];
}
