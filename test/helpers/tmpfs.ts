/** Small real filesystems for tests of a full disk. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh tmpfs of `size` (mount's syntax: `4m`) at a temp dir, or undefined where mounting is not allowed (not root). */
export function mountTmpfs(size: string): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'datactl-enospc-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

export function unmountTmpfs(dir: string): void {
  execFileSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
}
