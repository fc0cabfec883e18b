/**
 * Subscription requests, parsed once at the edge (HTTP) into trusted shapes. Every rejection is
 * E_INVALID_WEBHOOK (400) naming the field and what was wrong; URLs in messages are redacted.
 */
import { fail } from '../errors.js';
import { isSafePinFilePath } from '../objects/pin-file.js';
import { parseBranchGlob } from './glob.js';
import { EVENT_TYPES, type EventType } from './payload.js';
import { redactCredentials } from './redact.js';
import type { GitPinSpec, TargetSpec } from './types.js';

type Dict = Record<string, unknown>;

export interface SubscriptionInput {
  target: TargetSpec;
  branches: string[];
  events: EventType[];
  active: boolean;
}

export interface SubscriptionPatch {
  url?: string;
  /** null removes the secret. */
  secret?: string | null;
  git?: Partial<GitPinSpec>;
  branches?: string[];
  events?: EventType[];
  active?: boolean;
}

const CREATE_FIELDS = ['type', 'url', 'secret', 'git', 'branches', 'events', 'active'];
const PATCH_FIELDS = ['url', 'secret', 'git', 'branches', 'events', 'active'];
const GIT_FIELDS = ['url', 'branch', 'pinFile', 'key'];
const MAX_URL = 2048;
const MAX_SECRET = 1024;

const invalid = (field: string, message: string) => fail('E_INVALID_WEBHOOK', message, { field });

export function parseSubscriptionInput(body: unknown): SubscriptionInput {
  const b = requireObject(body, 'request body');
  rejectUnknown(b, CREATE_FIELDS, '');
  const type = b.type ?? (b.git !== undefined ? 'git' : 'http');
  if (type !== 'http' && type !== 'git') throw invalid('type', `invalid target type ${JSON.stringify(type)}: expected "http" or "git"`);
  const target = type === 'git' ? gitTarget(b) : httpTarget(b);
  const events = b.events === undefined ? defaultEvents(type) : parseEvents(b.events);
  if (type === 'git' && events.some((e) => e !== 'commit')) {
    throw invalid('events', 'a git target receives only "commit" events; drop branch.created and branch.deleted');
  }
  return { target, branches: b.branches === undefined ? ['*'] : parseBranches(b.branches), events, active: parseActive(b.active) ?? true };
}

export function parseSubscriptionPatch(body: unknown): SubscriptionPatch {
  const b = requireObject(body, 'request body');
  rejectUnknown(b, PATCH_FIELDS, '');
  const patch: SubscriptionPatch = {};
  if (b.url !== undefined) patch.url = parseHttpUrl(b.url);
  if (b.secret !== undefined) patch.secret = b.secret === null ? null : parseSecret(b.secret);
  if (b.git !== undefined) patch.git = parseGitFields(requireObject(b.git, '"git"'), false);
  if (b.branches !== undefined) patch.branches = parseBranches(b.branches);
  if (b.events !== undefined) patch.events = parseEvents(b.events);
  const active = parseActive(b.active);
  if (active !== undefined) patch.active = active;
  return patch;
}

function httpTarget(b: Dict): TargetSpec {
  if (b.git !== undefined) throw invalid('git', '"git" applies only to targets of type "git"');
  if (b.url === undefined) throw invalid('url', '"url" is required for an http target');
  return { type: 'http', url: parseHttpUrl(b.url), secret: b.secret === undefined || b.secret === null ? null : parseSecret(b.secret) };
}

function gitTarget(b: Dict): TargetSpec {
  if (b.url !== undefined || b.secret !== undefined) throw invalid('url', '"url" and "secret" apply to http targets; a git target takes "git": {url, branch, pinFile, key}');
  if (b.git === undefined) throw invalid('git', '"git" is required for a git target: {url, branch, pinFile, key}');
  const git = parseGitFields(requireObject(b.git, '"git"'), true);
  return { type: 'git', git: git as GitPinSpec };
}

export function parseHttpUrl(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw invalid('url', '"url" must be a non-empty string');
  const shown = JSON.stringify(redactCredentials(value));
  if (value.length > MAX_URL) throw invalid('url', `invalid webhook url: longer than ${MAX_URL} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('url', `invalid webhook url ${shown}: not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid('url', `invalid webhook url ${shown}: only http and https URLs are allowed, not ${url.protocol.slice(0, -1)}`);
  }
  if (url.hostname === '') throw invalid('url', `invalid webhook url ${shown}: no host`);
  return value;
}

function parseSecret(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_SECRET) {
    throw invalid('secret', `"secret" must be a string of 1-${MAX_SECRET} characters (or null for none)`);
  }
  return value;
}

function parseBranches(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.length > 100) {
    throw invalid('branches', '"branches" must be a glob or a non-empty array of at most 100 globs');
  }
  return [...new Set(list.map(parseBranchGlob))];
}

export function parseEvents(value: unknown): EventType[] {
  const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
  if (!Array.isArray(list) || list.length === 0) throw invalid('events', `"events" must be a non-empty array of: ${EVENT_TYPES.join(', ')}`);
  for (const e of list) {
    if (!EVENT_TYPES.includes(e as EventType)) throw invalid('events', `unknown event ${JSON.stringify(e)}: expected one of ${EVENT_TYPES.join(', ')}`);
  }
  return EVENT_TYPES.filter((e) => list.includes(e));
}

function defaultEvents(type: 'http' | 'git'): EventType[] {
  return type === 'git' ? ['commit'] : [...EVENT_TYPES];
}

function parseActive(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid('active', '"active" must be true or false');
  return value;
}

function parseGitFields(g: Dict, required: boolean): Partial<GitPinSpec> {
  rejectUnknown(g, GIT_FIELDS, 'git.');
  const out: Partial<GitPinSpec> = {};
  for (const [name, parse] of [['url', parseGitUrl], ['branch', parseGitBranch], ['pinFile', parsePinFile], ['key', parsePinKey]] as const) {
    if (g[name] === undefined) {
      if (required) throw invalid(`git.${name}`, `"git.${name}" is required for a git target`);
      continue;
    }
    out[name] = parse(g[name]);
  }
  return out;
}

/** Any form git accepts for a remote: scheme URLs, scp-like `user@host:path`, or a local path. */
function parseGitUrl(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_URL || /[\s\x00-\x1f\x7f]/.test(value)) {
    throw invalid('git.url', '"git.url" must be a non-empty git remote URL without spaces or control characters');
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme !== undefined && !['http', 'https', 'ssh', 'git', 'file'].includes(scheme)) {
    throw invalid('git.url', `invalid git url ${JSON.stringify(redactCredentials(value))}: scheme must be https, http, ssh, git or file`);
  }
  if (value.startsWith('-')) throw invalid('git.url', '"git.url" must not start with "-"');
  // git's <transport>::<address> form runs a remote helper (ext:: runs a command): never a pin target.
  if (/^[a-z][a-z0-9+.-]*::/i.test(value)) {
    throw invalid('git.url', `invalid git url ${JSON.stringify(redactCredentials(value))}: remote-helper transports ("ext::", "fd::") are not allowed`);
  }
  return value;
}

function parseGitBranch(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/.test(value) || value.includes('..') || value.includes('//') || value.endsWith('.lock') || value.endsWith('/')) {
    throw invalid('git.branch', `invalid git branch ${JSON.stringify(value)}: use letters, digits, ".", "_", "-" and "/" (no "..", no ".lock" suffix)`);
  }
  return value;
}

function parsePinFile(value: unknown): string {
  if (!isSafePinFilePath(value)) {
    throw invalid('git.pinFile', `invalid pin file ${JSON.stringify(value)}: expected a relative path inside the code repo, like "configuration/data.json", not under .git`);
  }
  return value;
}

function parsePinKey(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > 200 || /[\x00-\x1f\x7f]/.test(value)) {
    throw invalid('git.key', '"git.key" must be a non-empty string of at most 200 characters');
  }
  return value;
}

function requireObject(value: unknown, what: string): Dict {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('', `${what} must be a JSON object`);
  return value as Dict;
}

function rejectUnknown(obj: Dict, allowed: readonly string[], prefix: string): void {
  const unknown = Object.keys(obj).find((k) => !allowed.includes(k));
  if (unknown !== undefined) throw invalid(`${prefix}${unknown}`, `unknown field "${prefix}${unknown}": expected ${allowed.map((a) => prefix + a).join(', ')}`);
}
