/** The reference `b3sum` (Debian package b3sum; .ci/run installs it), for checking hashes against. */
import { execFileSync } from 'node:child_process';

export const hasB3sum = (() => {
  try {
    execFileSync('b3sum', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

/** b3sum's hex digest of a file. */
export const b3sum = (file: string): string => execFileSync('b3sum', ['--no-names', file]).toString().trim();
