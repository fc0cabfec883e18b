/**
 * Branch globs for subscription filters: branch-name characters plus `*`, which matches any run
 * (possibly empty) of name characters. Branch names have no separators, so there is no `**`.
 */
import { fail } from '../errors.js';

const GLOB_RE = /^[A-Za-z0-9._*-]{1,100}$/;

export function parseBranchGlob(value: unknown): string {
  if (typeof value !== 'string' || !GLOB_RE.test(value)) {
    throw fail(
      'E_INVALID_WEBHOOK',
      `invalid branch glob ${JSON.stringify(value)}: use 1-100 characters from [A-Za-z0-9._-] and "*" (any run of name characters)`,
      { field: 'branches', value },
    );
  }
  return value;
}

export function globToRegExp(glob: string): RegExp {
  const body = glob.split('*').map((part) => part.replace(/[.]/g, '\\.')).join('[A-Za-z0-9._-]*');
  return new RegExp(`^${body}$`);
}

const compiled = new Map<string, RegExp>();

/** True when any glob matches the branch. Compiled globs are cached (there are few per server). */
export function matchesAnyGlob(globs: readonly string[], branch: string): boolean {
  return globs.some((glob) => {
    let re = compiled.get(glob);
    if (!re) compiled.set(glob, (re = globToRegExp(glob)));
    return re.test(branch);
  });
}
