import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import type { RepoPath } from '../../src/types.js';
import { FilePool } from '../../cli/transfer/file-pool.js';
import { destinationFor, joinRelative, planSources, type Destination, type PlanOptions } from '../../cli/transfer/sources.js';

const to = (path: string | undefined, isDir = false): Destination => ({ path: path as RepoPath | undefined, isDir });

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof DatactlError) return err.code;
    throw err;
  }
  return undefined;
}

describe('put destination mapping', () => {
  it('puts a file at the exact destination path', () => {
    expect(destinationFor(to('/data/x.csv'), 'file', 'local.csv', false)).toBe('/data/x.csv');
  });

  it('puts a file at /<basename> when no path is given', () => {
    expect(destinationFor(to(undefined), 'file', 'some/dir/local.csv', false)).toBe('/local.csv');
  });

  it('puts a file inside the destination when it ends with "/" or there are several sources', () => {
    expect(destinationFor(to('/data', true), 'file', 'dir/local.csv', false)).toBe('/data/local.csv');
    expect(destinationFor(to('/data'), 'file', 'local.csv', true)).toBe('/data/local.csv');
    expect(destinationFor(to('/', true), 'file', 'local.csv', false)).toBe('/local.csv');
  });

  it("puts a directory's contents under the destination, or under / without one", () => {
    expect(destinationFor(to('/data'), 'dir', 'dir', false)).toBe('/data');
    expect(destinationFor(to(undefined), 'dir', 'dir', false)).toBe('/');
  });

  it('needs a single file destination for stdin', async () => {
    expect(destinationFor(to('/x.csv'), 'stdin', '-', false)).toBe('/x.csv');
    expect(await codeOf(() => destinationFor(to(undefined), 'stdin', '-', false))).toBe('E_INVALID_PATH');
    expect(await codeOf(() => destinationFor(to('/data', true), 'stdin', '-', false))).toBe('E_INVALID_PATH');
    expect(await codeOf(() => destinationFor(to('/x'), 'stdin', '-', true))).toBe('E_INVALID_PATH');
  });

  it('joins relative segments and validates the result', async () => {
    expect(joinRelative('/' as RepoPath, ['a', 'b'])).toBe('/a/b');
    expect(joinRelative('/data' as RepoPath, ['a', 'b'])).toBe('/data/a/b');
    expect(joinRelative('/data' as RepoPath, [])).toBe('/data');
    expect(await codeOf(() => joinRelative('/data' as RepoPath, ['a\\b']))).toBe('E_INVALID_PATH');
  });
});

describe('put source planning', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'datactl-plan-'));
    await mkdir(join(root, 'dir/a/b'), { recursive: true });
    await mkdir(join(root, 'dir/c'), { recursive: true });
    await writeFile(join(root, 'dir/z.txt'), 'z');
    await writeFile(join(root, 'dir/a/b/y.txt'), 'yy');
    await writeFile(join(root, 'dir/a/x.txt'), 'x');
    await writeFile(join(root, 'dir/c/w.txt'), 'www');
    await symlink(join(root, 'dir/a'), join(root, 'dir/link-to-dir'));
    await symlink(join(root, 'dir/z.txt'), join(root, 'dir/link-to-file'));
    await writeFile(join(root, 'one.csv'), '1,2');
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('walks a directory recursively in sorted order, mapping dir/a/b -> DEST/a/b', async () => {
    const skipped: string[] = [];
    const jobs = await planSources({
      dest: to('/data'),
      sources: [join(root, 'dir')],
      recursive: true,
      onSkip: (local, why) => skipped.push(`${local.slice(root.length)}: ${why}`),
    });
    expect([...jobs].map((j) => [j.dest, j.size])).toEqual([
      ['/data/a/b/y.txt', 2],
      ['/data/a/x.txt', 1],
      ['/data/c/w.txt', 3],
      ['/data/link-to-file', 1],
      ['/data/z.txt', 1],
    ]);
    expect(skipped).toEqual(['/dir/link-to-dir: symlink to a directory']);
  });

  it('scans the subtrees of a wide directory in worker threads, with the same result as inline', async () => {
    const wide = join(root, 'wide');
    for (let i = 0; i < 10; i++) {
      await mkdir(join(wide, `s${i}`, 'deep'), { recursive: true });
      await writeFile(join(wide, `s${i}`, 'deep', `f${i}.bin`), 'x'.repeat(i));
      await writeFile(join(wide, `s${i}`, 'top.txt'), 'top');
    }
    await symlink(join(wide, 's1'), join(wide, 's3', 'to-dir'));
    await symlink(join(wide, 'nowhere'), join(wide, 's4', 'dangling'));
    execFileSync('mkfifo', [join(wide, 's5', 'fifo')]);
    const plan = async (options: Partial<PlanOptions>) => {
      const skipped: string[] = [];
      const files = await planSources({
        dest: to('/w'),
        sources: [wide],
        recursive: true,
        onSkip: (local, why) => skipped.push(`${local.slice(wide.length)}: ${why}`),
        ...options,
      });
      return { files: [...files].map((f) => [f.local.slice(wide.length), f.dest, f.size]), skipped: skipped.sort() };
    };
    const pool = new FilePool(2);
    let scanned = 0;
    try {
      const threaded = await plan({ scanTree: (dir) => (scanned++, pool.scan(dir)), statMany: (paths) => pool.stat(paths) });
      expect(scanned).toBe(10);
      expect(threaded).toEqual(await plan({}));
      expect(threaded.files.slice(0, 3)).toEqual([
        ['/s0/deep/f0.bin', '/w/s0/deep/f0.bin', 0],
        ['/s0/top.txt', '/w/s0/top.txt', 3],
        ['/s1/deep/f1.bin', '/w/s1/deep/f1.bin', 1],
      ]);
      expect(threaded.files).toHaveLength(20);
      expect(threaded.skipped).toEqual(['/s3/to-dir: symlink to a directory', '/s4/dangling: broken symlink or vanished', '/s5/fifo: not a regular file']);
    } finally {
      await pool.close();
    }
  });

  it('refuses a local name that is no valid repo path, even deep in a scanned subtree', async () => {
    const wide = join(root, 'bad');
    for (let i = 0; i < 10; i++) await mkdir(join(wide, `s${i}`), { recursive: true });
    await writeFile(join(wide, 's7', 'a\\b.txt'), 'x');
    const err = await planSources({ dest: to('/w'), sources: [wide], recursive: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'E_INVALID_PATH', message: expect.stringContaining('backslash') });
  });

  it('refuses a directory without -r', async () => {
    expect(await codeOf(planSources({ dest: to('/'), sources: [join(root, 'dir')], recursive: false }))).toBe('E_BAD_REQUEST');
  });

  it('refuses two sources that land on the same path', async () => {
    const sources = [join(root, 'dir/z.txt'), join(root, 'dir/z.txt')];
    expect(await codeOf(planSources({ dest: to('/d', true), sources, recursive: false }))).toBe('E_BAD_REQUEST');
  });

  it('reports a missing local file as E_BAD_REQUEST', async () => {
    expect(await codeOf(planSources({ dest: to(undefined), sources: [join(root, 'nope')], recursive: false }))).toBe('E_BAD_REQUEST');
  });

  it('maps stdin to the destination without touching the file system', async () => {
    expect([...(await planSources({ dest: to('/in.bin'), sources: ['-'], recursive: false }))]).toEqual([{ local: '-', dest: '/in.bin', size: undefined }]);
  });
});
