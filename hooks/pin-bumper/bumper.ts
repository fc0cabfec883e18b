/**
 * PinBumper: turns a datactl commit event into a commit in a code repo that pins the data, e.g.
 * `configuration/data.json` -> `{"train": {"repo", "branch", "commit"}}`, and pushes it.
 *
 * - Idempotent: a pin that already names the event's commit changes nothing (`unchanged`).
 * - Never backward: when the pinned commit (same data repo) descends from the event's commit,
 *   the event is acknowledged and nothing is pushed (`ignored-older`).
 * - No lost pushes: a push rejected because the code branch moved starts over from a fresh fetch
 *   (and re-checks ancestry against the new pinned value), up to MAX_ATTEMPTS times.
 * - Bumps to one code repo run one at a time (a keyed lock per URL, in arrival order).
 * Used by the standalone receiver (receiver.ts) and, in-process, by the server's `git` target.
 */
import type { CommitEventPayload } from '../../src/webhooks/payload.js';
import { fail } from '../../src/errors.js';
import { formatPinDocument, isSafePinFilePath, parsePinDocument, pinAt, pinsCommit, samePin, setPin, type Pin } from '../../src/objects/pin-file.js';
import { isHex64, parseBranchName, parseRepoName } from '../../src/types.js';
import { KeyedLock } from '../../src/util/keyed-lock.js';
import { CodeRepo } from './code-repo.js';
import { redactError, redactUrl } from './redact.js';

export interface PinTarget {
  url: string;
  branch: string;
  pinFile: string;
  key: string;
}

export interface BumpResult {
  status: 'pushed' | 'unchanged' | 'ignored-older' | 'ignored';
  codeCommit?: string;
  message: string;
}

export interface PinBumperOptions {
  workDir: string;
  isAncestor?: (repo: string, ancestor: string, descendant: string) => Promise<boolean>;
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

export const MAX_ATTEMPTS = 10;

const SILENT = { info() {}, warn() {} };

type Decision = { write: string } | { done: BumpResult };

export class PinBumper {
  private readonly lock = new KeyedLock();
  private readonly repos = new Map<string, Promise<CodeRepo>>();
  private readonly log: NonNullable<PinBumperOptions['logger']>;

  constructor(private readonly opts: PinBumperOptions) {
    this.log = opts.logger ?? SILENT;
  }

  /** Apply the event's pin to the target; resolves only once pushed (or nothing was needed). */
  async bump(target: PinTarget, event: CommitEventPayload): Promise<BumpResult> {
    if (event.event !== 'commit' || !event.pin) return { status: 'ignored', message: `event ${String(event.event)} carries no pin` };
    checkTarget(target);
    const pin = eventPin(event);
    try {
      return await this.lock.run(target.url, () => this.bumpLocked(target, pin));
    } catch (err) {
      const safe = redactError(err);
      this.log.warn({ target: describeTarget(target), pin, err: safe.message }, 'pin bump failed');
      throw safe;
    }
  }

  private async bumpLocked(target: PinTarget, pin: Pin): Promise<BumpResult> {
    const where = describeTarget(target);
    const repo = await this.clone(target.url);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await repo.syncTo(target.branch);
      const decision = await this.decide(repo, target, pin);
      if ('done' in decision) {
        this.log.info({ target: where, pin, status: decision.done.status }, decision.done.message);
        return decision.done;
      }
      const codeCommit = await repo.commitFile(target.pinFile, decision.write, commitMessage(target.key, pin));
      if ((await repo.push(target.branch)) === 'pushed') {
        const message = `pinned ${target.key} to ${pin.repo}@${pin.commit.slice(0, 12)} in ${where} (code commit ${codeCommit.slice(0, 12)})`;
        this.log.info({ target: where, pin, codeCommit, attempt }, message);
        return { status: 'pushed', codeCommit, message };
      }
      this.log.warn({ target: where, attempt }, 'code branch moved during the bump; fetching and re-applying');
      await backoff(attempt);
    }
    throw new Error(`could not push to ${where}: the branch kept moving for ${MAX_ATTEMPTS} attempts`);
  }

  /** What to do with the freshly synced work tree: nothing (and why), or write this text. */
  private async decide(repo: CodeRepo, target: PinTarget, pin: Pin): Promise<Decision> {
    const text = (await repo.readFile(target.pinFile)) ?? '';
    const doc = parsePinDocument(text, target.pinFile);
    const current = pinAt(doc, target.key);
    if (samePin(current, pin)) {
      return { done: { status: 'unchanged', message: `${target.key} in ${describeTarget(target)} already pins ${pin.repo}@${pin.commit.slice(0, 12)}` } };
    }
    if (current && current.repo === pin.repo && pinsCommit(current) && current.commit !== pin.commit && this.opts.isAncestor) {
      if (await this.opts.isAncestor(pin.repo, pin.commit, current.commit)) {
        const message = `${pin.repo}@${pin.commit.slice(0, 12)} is older than the pinned ${current.commit.slice(0, 12)}; not moving ${target.key} backward`;
        return { done: { status: 'ignored-older', message } };
      }
    }
    return { write: formatPinDocument(setPin(doc, target.key, pin)) };
  }

  private clone(url: string): Promise<CodeRepo> {
    let repo = this.repos.get(url);
    if (!repo) {
      repo = CodeRepo.open(this.opts.workDir, url);
      this.repos.set(url, repo);
      repo.catch(() => this.repos.delete(url));
    }
    return repo;
  }
}

/** `data: pin <key> to <repo>@<commit12>`, a blank line, then the Data-* trailers. */
export function commitMessage(key: string, pin: Pin): string {
  return [
    `data: pin ${key} to ${pin.repo}@${pin.commit.slice(0, 12)}`,
    '',
    `Data-Repo: ${pin.repo}`,
    `Data-Branch: ${pin.branch ?? ''}`,
    `Data-Commit: ${pin.commit}`,
  ].join('\n');
}

/** `<url> <branch>:<pinFile>`, credentials redacted: how a target appears in logs and messages. */
export function describeTarget(target: PinTarget): string {
  return `${redactUrl(String(target.url))} ${target.branch}:${target.pinFile}`;
}

function eventPin(event: CommitEventPayload): Pin {
  const { repo, branch, commit } = event.pin;
  if (!isHex64(commit)) throw fail('E_BAD_REQUEST', `event pin commit ${JSON.stringify(commit)} is not a 64-hex commit id`);
  return { repo: parseRepoName(repo), branch: parseBranchName(branch), commit };
}

/** Reject targets that could escape the clone or break a commit message. */
export function checkTarget(target: PinTarget): void {
  const bad = (why: string) => fail('E_BAD_REQUEST', `invalid pin target ${describeTarget(target)}: ${why}`);
  if (typeof target.url !== 'string' || target.url === '') throw bad('url must be a non-empty string');
  if (!isGitBranchName(target.branch)) throw bad(`branch ${JSON.stringify(target.branch)} is not a valid git branch name`);
  if (!isSafeRelativePath(target.pinFile)) throw bad('pinFile must be a relative path inside the repo, without "." or ".." segments, not under .git');
  // eslint-disable-next-line no-control-regex
  if (typeof target.key !== 'string' || target.key === '' || /[\x00-\x1f\x7f]/.test(target.key)) throw bad('key must be a non-empty string without control characters');
}

/** A conservative subset of git's check-ref-format rules. */
export function isGitBranchName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    /^[A-Za-z0-9._/-]+$/.test(name) &&
    !name.startsWith('-') &&
    !name.startsWith('/') &&
    !name.endsWith('/') &&
    !name.endsWith('.') &&
    !name.endsWith('.lock') &&
    !name.includes('..') &&
    !name.includes('//') &&
    !name.split('/').some((part) => part.startsWith('.'))
  );
}

/** The server's rule for pin file paths (src/objects/pin-file.ts), so both refuse the same targets. */
export const isSafeRelativePath = isSafePinFilePath;

/** A short randomized pause before retrying, so two racing bumpers do not stay in lock step. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.floor(Math.random() * 25 * attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
