/**
 * Pin files, pure (no I/O): a JSON object in a code repo (e.g. `configuration/data.json`) whose
 * keys name data pins: `{"train": {"repo": "images", "branch": "main", "commit": "<64 hex>"}}`.
 * The git pin bumper and `datactl pin` write them with exactly this module, so both produce the
 * same bytes: 2-space JSON with a trailing newline, every other key kept as it was, in its place.
 */
import { fail } from '../errors.js';
import { isHex64 } from '../types.js';

/** One pin as written. `branch` is null when the pin was made from a commit id, not a branch. */
export interface Pin {
  repo: string;
  branch: string | null;
  commit: string;
}

/** A pin as read back: a hand-written file may name only a branch (`commit` null or not an id). */
export interface PinEntry {
  repo: string;
  branch: string | null;
  commit: string | null;
}

export type PinDocument = Record<string, unknown>;

/** Parse a pin file's text; empty text is an empty document. Anything but a JSON object throws. */
export function parsePinDocument(text: string, where = 'pin file'): PinDocument {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw fail('E_BAD_REQUEST', `${where} is not valid JSON: ${(err as Error).message}`, { file: where });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw fail('E_BAD_REQUEST', `${where} must hold a JSON object (one key per pin)`, { file: where });
  }
  return value as PinDocument;
}

/** The stable encoding: 2-space indentation, trailing newline, key order as in the document. */
export function formatPinDocument(doc: PinDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The pin object in its fixed key order (repo, branch, commit). */
export function pinValue(pin: Pin): Pin {
  return { repo: pin.repo, branch: pin.branch, commit: pin.commit };
}

/** A copy of `doc` with `key` set to `pin`: an existing key keeps its place, a new one goes last. */
export function setPin(doc: PinDocument, key: string, pin: Pin): PinDocument {
  return { ...doc, [key]: pinValue(pin) };
}

/** The entry under `key`, or undefined when the key is absent or does not look like a pin. */
export function pinAt(doc: PinDocument, key: string): PinEntry | undefined {
  const raw = Object.prototype.hasOwnProperty.call(doc, key) ? doc[key] : undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const { repo, branch, commit } = raw as Record<string, unknown>;
  if (typeof repo !== 'string' || repo === '') return undefined;
  return {
    repo,
    branch: typeof branch === 'string' && branch !== '' ? branch : null,
    commit: typeof commit === 'string' && commit !== '' ? commit : null,
  };
}

/** True when the entry names exactly this pin (same repo, branch and commit). */
export function samePin(entry: PinEntry | undefined, pin: Pin): boolean {
  return entry !== undefined && entry.repo === pin.repo && entry.branch === pin.branch && entry.commit === pin.commit;
}

/** True when the entry pins a full commit id (not just a branch). */
export function pinsCommit(entry: PinEntry): entry is PinEntry & { commit: string } {
  return isHex64(entry.commit);
}

/**
 * Where a pin file may live in a code repo: a relative path of at most 1024 characters, without
 * empty, "." or ".." segments, backslashes or control characters, and under no ".git" directory
 * at any depth, in any case (git itself refuses to track such paths). The server checks webhook
 * targets and the pin bumper its config by this one rule.
 */
export function isSafePinFilePath(path: unknown): path is string {
  // eslint-disable-next-line no-control-regex
  if (typeof path !== 'string' || path === '' || path.length > 1024 || path.startsWith('/') || path.includes('\\') || /[\x00-\x1f\x7f]/.test(path)) return false;
  return path.split('/').every((p) => p !== '' && p !== '.' && p !== '..' && p.toLowerCase() !== '.git');
}
