/**
 * Pins in code repos, from the client side: resolve `REPO@REF` to a pin, read one from a pin file,
 * write one into a pin file. The file format (and its bytes) is shared with the git pin bumper:
 * see src/objects/pin-file.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DatactlError, fail } from '../src/errors.js';
import { formatPinDocument, parsePinDocument, pinAt, samePin, setPin, type Pin, type PinEntry } from '../src/objects/pin-file.js';
import { parseRepoName } from '../src/types.js';
import type { DatactlClient } from './client.js';
import { parseRef } from './refspec.js';

export type { Pin, PinEntry } from '../src/objects/pin-file.js';

/**
 * Resolve `ref` (a branch, a commit id or prefix, with `~N`/`^`) in `repo` to a pin. `branch` is
 * the branch the ref starts from (`main` for `main~2`), or null when it names a commit directly.
 */
export async function pinRef(client: DatactlClient, repo: string, ref = 'main'): Promise<Pin> {
  const name = parseRepoName(repo);
  const base = parseRef(ref).split(/[~^]/)[0]!;
  const [commit, branch] = await Promise.all([client.getCommit(name, ref), branchOrNull(client, name, base)]);
  return { repo: name, branch, commit: commit.id };
}

async function branchOrNull(client: DatactlClient, repo: string, name: string): Promise<string | null> {
  try {
    return (await client.getBranch(repo, name)).name;
  } catch (err) {
    if (err instanceof DatactlError && (err.code === 'E_BRANCH_NOT_FOUND' || err.code === 'E_INVALID_NAME')) return null;
    throw err;
  }
}

/** The pin under `key` in `file`. Throws E_BAD_REQUEST when the file, the key or its repo is missing. */
export async function readPin(file: string, key: string): Promise<PinEntry> {
  const text = await readText(file);
  if (text === undefined) throw fail('E_BAD_REQUEST', `pin file ${file} does not exist`, { file });
  const doc = parsePinDocument(text, file);
  if (!Object.prototype.hasOwnProperty.call(doc, key)) {
    const keys = Object.keys(doc);
    throw fail('E_BAD_REQUEST', `pin file ${file} has no key ${JSON.stringify(key)}${keys.length ? ` (it has ${keys.map((k) => JSON.stringify(k)).join(', ')})` : ''}`, { file, key });
  }
  const entry = pinAt(doc, key);
  if (!entry) throw fail('E_BAD_REQUEST', `${file}: ${JSON.stringify(key)} is not a pin (expected {"repo", "branch", "commit"})`, { file, key });
  return entry;
}

export interface WritePinResult {
  pin: Pin;
  /** False when the file already held exactly this pin (the file is then not rewritten). */
  changed: boolean;
}

/**
 * Set `key` in `file` to `pin`, keeping every other key as it was; creates the file and its
 * directories when absent. Written temp -> fsync -> rename, so readers never see half a file.
 */
export async function writePin(file: string, key: string, pin: Pin): Promise<WritePinResult> {
  if (key === '') throw fail('E_BAD_REQUEST', 'the pin key must not be empty');
  const doc = parsePinDocument((await readText(file)) ?? '', file);
  if (samePin(pinAt(doc, key), pin)) return { pin, changed: false };
  await mkdir(dirname(file), { recursive: true });
  await writeAtomically(file, formatPinDocument(setPin(doc, key, pin)));
  return { pin, changed: true };
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.datactl-tmp-${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(text);
    await handle.sync();
    await handle.close();
    await rename(temp, file);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
