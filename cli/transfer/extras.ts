/**
 * What a directory holds that a commit does not: the files pull leaves behind from an earlier pin
 * (a file the data no longer has, a directory since renamed), which a training job reading the
 * whole directory would otherwise train on. Found by walking the local side only where the pull
 * writes (its directory scopes); removed only when asked (`--delete`).
 *
 * Symlinks are followed where the download would write through them (the output directory, a
 * scope, a link standing where the commit has a directory) and nowhere else: any other link is an
 * entry of its own, and removing it never touches what it points to.
 */
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { errnoText } from './errno.js';
import { fail } from '../../src/errors.js';
import { localPathFor } from './local-paths.js';

export interface Extra {
  /** The local path, under the pull's output directory. */
  local: string;
  /** Whether it is a directory the commit has no file under (removed as a whole). */
  dir: boolean;
  /** Files (anything not a directory) it stands for: 1 for a file, those inside for a directory. */
  files: number;
  /**
   * It stands where the commit has a file (a directory) or a directory (a file): the download
   * cannot write there until it is gone.
   */
  blocking: boolean;
  /** A git repository's own files are at or inside it (`.git`, a directory or a submodule's file). */
  holdsGit: boolean;
}

/** A directory that could not be listed; without it the caller's scan fails. */
export type OnUnreadable = (local: string, reason: string) => void;

interface Commit {
  files: ReadonlySet<string>;
  dirs: ReadonlySet<string>;
  onUnreadable: OnUnreadable | undefined;
}

/**
 * Local entries the commit lacks, under `scopes` (repo directory paths, e.g. `/` or `/train`) and
 * at `points` (requested file paths): a file whose repo path is not one of `files`, a directory
 * that is no ancestor of one.
 */
export async function findExtras(
  outDir: string,
  scopes: readonly string[],
  points: readonly string[],
  files: ReadonlySet<string>,
  onUnreadable?: OnUnreadable,
): Promise<Extra[]> {
  const dirs = new Set<string>(['/']);
  for (const path of files) {
    for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
      const dir = path.slice(0, cut);
      if (dirs.has(dir)) break; // its ancestors were added with it
      dirs.add(dir);
    }
  }
  const commit: Commit = { files, dirs, onUnreadable };
  const extras: Extra[] = [];
  const roots = outermost(scopes);
  for (const scope of roots) {
    const local = localPath(outDir, scope);
    // Followed: the download writes through a linked output directory or scope all the same.
    if ((await stat(local).catch(() => undefined))?.isDirectory()) await walk(local, scope === '/' ? '' : scope, commit, extras);
  }
  for (const point of points) {
    if (roots.some((s) => s === '/' || point.startsWith(`${s}/`))) continue; // walked above
    const local = localPath(outDir, point);
    if ((await lstat(local).catch(() => undefined))?.isDirectory()) extras.push(await extraDir(local, true, commit));
  }
  return extras;
}

async function walk(local: string, repoDir: string, commit: Commit, extras: Extra[]): Promise<void> {
  const entries = await listDir(local, commit.onUnreadable);
  for (const entry of entries ?? []) {
    const path = `${repoDir}/${entry.name}`;
    const at = join(local, entry.name);
    if (entry.isDirectory()) {
      if (commit.dirs.has(path)) await walk(at, path, commit, extras);
      else extras.push(await extraDir(at, commit.files.has(path), commit));
    } else if (commit.dirs.has(path)) {
      // A link to a directory where the commit has one: the download writes through it, so its
      // contents are what is compared. Anything else here is in the way.
      if (entry.isSymbolicLink() && (await stat(at).catch(() => undefined))?.isDirectory()) await walk(at, path, commit, extras);
      else extras.push({ local: at, dir: false, files: 1, blocking: true, holdsGit: entry.name === '.git' });
    } else if (!commit.files.has(path)) {
      extras.push({ local: at, dir: false, files: 1, blocking: false, holdsGit: entry.name === '.git' });
    }
  }
}

async function extraDir(local: string, blocking: boolean, commit: Commit): Promise<Extra> {
  const inside = { files: 0, holdsGit: basename(local) === '.git' };
  await tally(local, commit.onUnreadable, inside);
  return { local, dir: true, files: inside.files, blocking, holdsGit: inside.holdsGit };
}

async function tally(local: string, onUnreadable: OnUnreadable | undefined, into: { files: number; holdsGit: boolean }): Promise<void> {
  for (const entry of (await listDir(local, onUnreadable)) ?? []) {
    if (entry.name === '.git') into.holdsGit = true;
    if (entry.isDirectory()) await tally(join(local, entry.name), onUnreadable, into);
    else into.files++;
  }
}

async function listDir(local: string, onUnreadable: OnUnreadable | undefined) {
  try {
    return await readdir(local, { withFileTypes: true });
  } catch (err) {
    if (!onUnreadable) throw fail('E_BAD_REQUEST', `cannot list ${local}: ${errnoText(err)}`, { local });
    onUnreadable(local, errnoText(err));
    return undefined;
  }
}

/**
 * Remove `extras`; a symlink goes, never what it points to. Returns the files removed; a failure
 * says how many went before it (`removedBefore` counts those of an earlier call).
 */
export async function removeExtras(extras: readonly Extra[], removedBefore = 0): Promise<number> {
  let removed = removedBefore;
  for (const extra of extras) {
    try {
      await rm(extra.local, { recursive: extra.dir, force: true });
    } catch (err) {
      const before = removed === 0 ? 'nothing was removed before it' : `${removed} file${removed === 1 ? ' was' : 's were'} removed before it`;
      throw fail('E_BAD_REQUEST', `cannot remove ${extra.local}: ${errnoText(err)} (${before})`, { local: extra.local, removedFiles: removed });
    }
    removed += extra.files;
  }
  return removed - removedBefore;
}

function localPath(outDir: string, repoPath: string): string {
  return repoPath === '/' ? outDir : localPathFor(outDir, '/', repoPath);
}

/** Scopes with those inside another dropped (`/` and `/train` walk `/` once). */
function outermost(scopes: readonly string[]): string[] {
  const unique = [...new Set(scopes)];
  return unique.filter((s) => !unique.some((o) => o !== s && (o === '/' || s.startsWith(`${o}/`))));
}
