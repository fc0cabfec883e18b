/**
 * What the page cache holds, seen from outside: whether a directory's filesystem takes O_DIRECT,
 * and util-linux's fincore for the cached pages of files. Tests of pack writes skip cleanly where
 * either is missing.
 */
import { execFile } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Whether `dir`'s filesystem lets a file be opened with O_DIRECT (tmpfs before Linux 6.6 does not). */
export async function takesDirectIo(dir: string): Promise<boolean> {
  const probe = path.join(dir, `.direct-io-probe-${process.pid}`);
  return fs.open(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT).then(
    async (fh) => {
      await fh.close();
      await fs.rm(probe, { force: true });
      return true;
    },
    // A refused open may still have created the file (ramfs, tmpfs before Linux 6.6).
    () => fs.rm(probe, { force: true }).then(() => false),
  );
}

export const hasFincore: boolean = await run('fincore', ['--version']).then(
  () => true,
  () => false,
);

/** Cached pages of `files` together, and the pages their sizes span. */
export async function cachedPages(files: readonly string[]): Promise<{ cached: number; pages: number }> {
  const { stdout } = await run('fincore', ['--bytes', '--noheadings', '--raw', '--output', 'PAGES,SIZE', ...files]);
  let cached = 0;
  let pages = 0;
  for (const line of stdout.trim().split('\n')) {
    const [p, size] = line.split(/\s+/).map(Number);
    cached += p!;
    pages += Math.ceil(size! / 4096);
  }
  return { cached, pages };
}
