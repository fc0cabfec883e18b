/**
 * Where a downloaded repo path goes on disk: under the output directory, never outside it. The
 * repo paths come from the server, so each is checked, not trusted.
 */
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { fail } from '../../src/errors.js';

/**
 * A segment that may not appear in a repo path taken from the server: empty, `.` or `..` (or a NUL
 * anywhere). Paths the server sends are normalized; one that is not cannot be trusted to stay
 * under the output directory.
 */
const UNSAFE_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)|\0/;

/**
 * The local path of each repo path under `root`, under `outDir`; a path outside `root`, or one that
 * would leave `outDir`, is refused (E_INVALID_PATH). The result equals join(outDir, ...segments):
 * the segments are checked, then joined by concatenation to a base made once, because path.join
 * and path.relative per file were a sixth of what a 100k-file get allocated. (On Windows, where a
 * segment can also escape as `C:` or with `\`, path.join and path.relative decide, as before.)
 */
export function localPaths(outDir: string, root: string): (repoPath: string) => string {
  const prefix = root === '/' ? '/' : `${root}/`;
  // As join() writes outDir before a segment: "out/" and "out" alike, "." dropped, "/" kept.
  const normalized = normalize(outDir).replace(/(.)\/$/, '$1');
  const base = normalized === '.' ? '' : normalized === '/' ? '/' : `${normalized}/`;
  return (repoPath) => {
    const rel = repoPath.slice(prefix.length);
    if (!repoPath.startsWith(prefix) || UNSAFE_SEGMENT.test(rel)) throw outsideOf(outDir, repoPath);
    return sep === '/' ? base + rel : windowsLocalPath(outDir, rel, repoPath);
  };
}

/** localPaths for a single path. */
export function localPathFor(outDir: string, root: string, repoPath: string): string {
  return localPaths(outDir, root)(repoPath);
}

function windowsLocalPath(outDir: string, rel: string, repoPath: string): string {
  const local = join(outDir, ...rel.split('/'));
  const back = relative(outDir, local);
  if (back === '' || back === '..' || back.startsWith(`..${sep}`) || isAbsolute(back)) throw outsideOf(outDir, repoPath);
  return local;
}

function outsideOf(outDir: string, repoPath: string): Error {
  return fail('E_INVALID_PATH', `refusing to write ${repoPath} outside ${outDir}`, { path: repoPath });
}
