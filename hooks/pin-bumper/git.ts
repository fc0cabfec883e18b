/**
 * One way to run git for the bumper: simple-git with a controlled environment. simple-git 4
 * strips (or refuses) GIT_* variables it was not told about, so the credential-related ones we
 * want to honour are named here; everything else GIT_* (GIT_DIR from a surrounding hook, say)
 * is dropped. Prompts are off, and every error message leaves here with credentials redacted.
 */
import { simpleGit, type SimpleGit } from 'simple-git';
import { redactUrl } from './redact.js';

/** Variables that carry credentials or transport settings through to git. */
const PASS_THROUGH = [
  'GIT_ASKPASS',
  'SSH_ASKPASS',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_SSH_VARIANT',
  'GIT_SSL_CAINFO',
  'GIT_SSL_CAPATH',
  'GIT_SSL_NO_VERIFY',
  'GIT_HTTP_LOW_SPEED_LIMIT',
  'GIT_HTTP_LOW_SPEED_TIME',
];
/** Not GIT_*-prefixed, but simple-git guards them too; git never needs them here. */
const DROPPED = new Set(['EDITOR', 'VISUAL', 'PAGER', 'PREFIX']);

export const DEFAULT_IDENTITY = { name: 'datactl', email: 'datactl@localhost' } as const;

/** The child environment: ambient variables minus unknown GIT_*, no prompts, a commit identity. */
export function gitEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || DROPPED.has(key.toUpperCase())) continue;
    if (/^git_/i.test(key) && !PASS_THROUGH.includes(key.toUpperCase())) continue;
    out[key] = value;
  }
  const authorName = env['GIT_AUTHOR_NAME'] || DEFAULT_IDENTITY.name;
  const authorEmail = env['GIT_AUTHOR_EMAIL'] || DEFAULT_IDENTITY.email;
  out['GIT_AUTHOR_NAME'] = authorName;
  out['GIT_AUTHOR_EMAIL'] = authorEmail;
  out['GIT_COMMITTER_NAME'] = env['GIT_COMMITTER_NAME'] || authorName;
  out['GIT_COMMITTER_EMAIL'] = env['GIT_COMMITTER_EMAIL'] || authorEmail;
  out['GIT_TERMINAL_PROMPT'] = '0';
  return out;
}

/** A failed git command; the message is already redacted. */
export class GitCommandError extends Error {
  constructor(
    readonly command: string,
    readonly output: string,
  ) {
    super(`git ${command} failed: ${output.trim() || 'no output'}`);
    this.name = 'GitCommandError';
  }
}

/** Runs git in one directory. Kills a command that produces no output for `idleTimeoutMs`. */
export class GitRunner {
  private readonly git: SimpleGit;

  constructor(
    readonly dir: string,
    env: Record<string, string> = gitEnvironment(),
    idleTimeoutMs = 600_000,
  ) {
    const allowEnvironment = Object.keys(env).filter((k) => /^git_/i.test(k) || k.toUpperCase() === 'SSH_ASKPASS');
    this.git = simpleGit({
      baseDir: dir,
      allowEnvironment,
      unsafe: { allowUnsafeAskPass: true, allowUnsafeSshCommand: true },
      config: ['commit.gpgsign=false', 'core.autocrlf=false'],
      timeout: { block: idleTimeoutMs },
    }).env(env);
  }

  /** Run `git <args>` and return stdout; failures throw GitCommandError (redacted). */
  async run(args: string[]): Promise<string> {
    try {
      return await this.git.raw(args);
    } catch (err) {
      const subcommand = args.find((a) => !a.startsWith('-')) ?? 'command';
      throw new GitCommandError(subcommand, redactUrl(err instanceof Error ? err.message : String(err)));
    }
  }
}
