/**
 * The receiver's configuration file, validated once with errors that name the exact field:
 * ```json
 * { "secret": "...",                      // or env DATACTL_HOOK_SECRET
 *   "workDir": "./pin-bumper",            // relative to the config file
 *   "server": "http://127.0.0.1:8080",    // optional: datactl server for ancestry checks
 *   "mappings": [{ "repo": "images", "branch": "*",
 *                  "target": { "url": "...", "branch": "main", "pinFile": "configuration/data.json", "key": "train" } }] }
 * ```
 * `repo` and `branch` are globs: `*` is any run of characters, `?` one character.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fail } from '../../src/errors.js';
import { isGitBranchName, isSafeRelativePath, type PinTarget } from './bumper.js';

export interface Mapping {
  repo: string;
  branch: string;
  target: PinTarget;
}

export interface ReceiverConfig {
  secret: string;
  /** Absolute: clones and the delivery log live here. */
  workDir: string;
  server?: string;
  mappings: Mapping[];
}

export const SECRET_ENV = 'DATACTL_HOOK_SECRET';

type Json = Record<string, unknown>;

const bad = (field: string, why: string) => fail('E_BAD_REQUEST', `invalid receiver config: ${field} ${why}`, { field });

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function str(obj: Json, key: string, field: string, fallback?: string): string {
  const value = obj[key] ?? fallback;
  if (typeof value !== 'string' || value.trim() === '') throw bad(`${field}.${key}`.replace(/^\./, ''), 'must be a non-empty string');
  return value;
}

/** Validate parsed JSON. `baseDir` anchors a relative workDir; `env` may supply the secret. */
export function parseReceiverConfig(value: unknown, baseDir: string, env: NodeJS.ProcessEnv = process.env): ReceiverConfig {
  if (!isObject(value)) throw bad('the file', 'must hold a JSON object');
  const known = new Set(['secret', 'workDir', 'server', 'mappings']);
  for (const key of Object.keys(value)) if (!known.has(key)) throw bad(key, `is not a known setting (expected one of ${[...known].join(', ')})`);
  const secret = value['secret'] ?? env[SECRET_ENV];
  if (typeof secret !== 'string' || secret === '') throw bad('secret', `must be a non-empty string (or set ${SECRET_ENV})`);
  const workDir = resolve(baseDir, str(value, 'workDir', ''));
  const config: ReceiverConfig = { secret, workDir, mappings: parseMappings(value['mappings']) };
  if (value['server'] !== undefined) config.server = parseServer(value['server']);
  return config;
}

/** Read, parse and validate a config file. */
export async function loadReceiverConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ReceiverConfig> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw fail('E_BAD_REQUEST', `cannot read receiver config ${file}: ${err.code ?? err.message}`, { file });
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw fail('E_BAD_REQUEST', `receiver config ${file} is not valid JSON: ${(err as Error).message}`, { file });
  }
  return parseReceiverConfig(json, dirname(resolve(file)), env);
}

function parseServer(value: unknown): string {
  if (typeof value !== 'string' || !/^https?:\/\/[^\s]+$/.test(value)) throw bad('server', 'must be an http(s) URL');
  return value;
}

function parseMappings(value: unknown): Mapping[] {
  if (!Array.isArray(value) || value.length === 0) throw bad('mappings', 'must be a non-empty array');
  return value.map((m: unknown, i) => parseMapping(m, `mappings[${i}]`));
}

function parseMapping(value: unknown, field: string): Mapping {
  if (!isObject(value)) throw bad(field, 'must be an object');
  const repo = str(value, 'repo', field);
  const branch = str(value, 'branch', field, '*');
  const t = value['target'];
  if (!isObject(t)) throw bad(`${field}.target`, 'must be an object');
  const tf = `${field}.target`;
  const target: PinTarget = { url: str(t, 'url', tf), branch: str(t, 'branch', tf, 'main'), pinFile: str(t, 'pinFile', tf), key: str(t, 'key', tf) };
  if (!isGitBranchName(target.branch)) throw bad(`${tf}.branch`, `${JSON.stringify(target.branch)} is not a valid git branch name`);
  if (!isSafeRelativePath(target.pinFile)) throw bad(`${tf}.pinFile`, 'must be a relative path inside the repo, without "." or ".." segments, not under .git');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(target.key)) throw bad(`${tf}.key`, 'must not contain control characters');
  return { repo, branch, target };
}

/** `*` matches any run of characters, `?` exactly one; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`);
}

/** The mappings whose repo and branch globs match, in config order. */
export function matchMappings(config: ReceiverConfig, repo: string, branch: string): Mapping[] {
  return config.mappings.filter((m) => globToRegExp(m.repo).test(repo) && globToRegExp(m.branch).test(branch));
}
