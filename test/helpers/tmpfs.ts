/** Small real filesystems: a tmpfs for tests of a full disk, a ramfs for one that refuses O_DIRECT. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh tmpfs of `size` (mount's syntax: `4m`) at a temp dir, or undefined where mounting is not allowed (not root). */
export function mountTmpfs(size: string): string | undefined {
  return mount('datactl-enospc-', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs']);
}

/** A fresh ramfs at a temp dir (it has no size limit and no direct I/O: O_DIRECT opens fail with EINVAL), or undefined. */
export function mountRamfs(): string | undefined {
  return mount('datactl-ramfs-', ['-t', 'ramfs', 'ramfs']);
}

function mount(prefix: string, args: string[]): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    execFileSync('mount', [...args, dir], { stdio: 'ignore' });
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
