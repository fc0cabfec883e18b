/**
 * What a directory holds that a commit does not: the files pull leaves behind from an earlier pin
 * (a file the data no longer has, a directory since renamed), which a training job reading the
 * whole directory would otherwise train on. Found by walking the local side only where the pull
 * writes (its directory scopes), never following symlinks; removed only when asked (`--delete`).
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoText } from './errno.js';
import { fail } from '../../src/errors.js';

export interface Extra {
  /** The local path, under the pull's output directory. */
  local: string;
  /** Whether it is a directory the commit has no file under (removed as a whole). */
  dir: boolean;
  /** Files (anything not a directory) it stands for: 1 for a file, those inside for a directory. */
  files: number;
}

/**
 * Local entries under `scopes` (repo directory paths, e.g. `/` or `/train`) that the commit lacks:
 * a file whose repo path is not one of `files`, and a directory that is no ancestor of one (a
 * directory where the commit has a file counts as extra too, so removing it makes room).
 */
export async function findExtras(outDir: string, scopes: readonly string[], files: ReadonlySet<string>): Promise<Extra[]> {
  const dirs = new Set<string>(['/']);
  for (const path of files) {
    for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
      const dir = path.slice(0, cut);
      if (dirs.has(dir)) break; // its ancestors were added with it
      dirs.add(dir);
    }
  }
  const extras: Extra[] = [];
  for (const scope of outermost(scopes)) {
    const local = scope === '/' ? outDir : join(outDir, ...scope.slice(1).split('/'));
    const info = await lstat(local).catch(() => undefined);
    if (info?.isDirectory()) await walk(local, scope === '/' ? '' : scope, files, dirs, extras);
  }
  return extras;
}

async function walk(local: string, repoDir: string, files: ReadonlySet<string>, dirs: ReadonlySet<string>, extras: Extra[]): Promise<void> {
  for (const entry of await listDir(local)) {
    const path = `${repoDir}/${entry.name}`;
    const at = join(local, entry.name);
    if (entry.isDirectory()) {
      if (dirs.has(path)) await walk(at, path, files, dirs, extras);
      else extras.push({ local: at, dir: true, files: await countFiles(at) });
    } else if (!files.has(path)) {
      extras.push({ local: at, dir: false, files: 1 });
    }
  }
}

async function countFiles(local: string): Promise<number> {
  let n = 0;
  for (const entry of await listDir(local)) n += entry.isDirectory() ? await countFiles(join(local, entry.name)) : 1;
  return n;
}

async function listDir(local: string) {
  try {
    return await readdir(local, { withFileTypes: true });
  } catch (err) {
    throw fail('E_BAD_REQUEST', `cannot list ${local}: ${errnoText(err)}`, { local });
  }
}

/** Remove what findExtras found; a symlink goes, never what it points to. */
export async function removeExtras(extras: readonly Extra[]): Promise<void> {
  for (const extra of extras) {
    try {
      await rm(extra.local, { recursive: extra.dir, force: true });
    } catch (err) {
      throw fail('E_BAD_REQUEST', `cannot remove ${extra.local}: ${errnoText(err)}`, { local: extra.local });
    }
  }
}

/** Scopes with those inside another dropped (`/` and `/train` walk `/` once). */
function outermost(scopes: readonly string[]): string[] {
  const unique = [...new Set(scopes)];
  return unique.filter((s) => !unique.some((o) => o !== s && (o === '/' || s.startsWith(`${o}/`))));
}
