/**
 * `datactl pin` and `datactl pull` through the real binary against a real server, and the same
 * verbs through the SDK: exact commits, a content cache that is trusted only after re-hashing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatactlClient } from '../../cli/client.js';
import { pinRef, pull, readPin, writePin } from '../../cli/sdk.js';
import { blake3Hex } from '../../src/hash/blake3.js';
import { runCli } from '../helpers/cli.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';
import { putFilesViaApi } from '../helpers/upload.js';

const built = existsSync(new URL('../../dist/cli/main.js', import.meta.url));

const V1: Record<string, Buffer> = {
  '/train/labels.csv': Buffer.from('id,label\n1,cat\n2,dog\n'),
  '/train/images/big.bin': seededBytes(7, 3 * 1024 * 1024), // streamed, not batched
  '/train/images/small.bin': seededBytes(8, 10_000),
  '/eval/x.txt': Buffer.from('eval\n'),
};
const V2: Record<string, Buffer> = {
  '/train/labels.csv': Buffer.from('id,label\n1,cat\n2,dog\n3,bird\n'),
  '/train/new.txt': Buffer.from('new in v2\n'),
};
const V1_BYTES = Object.values(V1).reduce((n, b) => n + b.length, 0);

let server: TestServer;
let work: string;
let c1: string;
let c2: string;
let n = 0;

beforeAll(async () => {
  server = await startTestServer();
  work = await mkdtemp(path.join(os.tmpdir(), 'datactl-pull-'));
  await api(server.url, 'POST', '/v1/repos', { name: 'images' });
  c1 = (await putFilesViaApi(server.url, 'images', 'main', V1)).json.commit.id;
  c2 = (await putFilesViaApi(server.url, 'images', 'main', V2)).json.commit.id;
});
afterAll(async () => {
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

const fresh = (name: string) => path.join(work, `${name}-${++n}`);
const cli = (args: string[], cache: string) => runCli(args, { env: { DATACTL_URL: server.url, DATACTL_CACHE_DIR: cache } });

/** Every file below `dir` as repo path -> BLAKE3 (comparing hashes, not megabytes, keeps tests fast). */
async function filesUnder(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[`/${path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/')}`] = blake3Hex(await readFile(path.join(e.parentPath, e.name)));
  }
  return out;
}

const hashes = (files: Record<string, Buffer>, ...only: string[]) =>
  Object.fromEntries(Object.entries(files).filter(([p]) => only.length === 0 || only.includes(p)).map(([p, b]) => [p, blake3Hex(b)]));

/** A pin file holding `{other: ..., train: <pin of images@c1>}`. */
async function pinnedAtC1(): Promise<string> {
  const file = path.join(fresh('code'), 'configuration', 'data.json');
  await writePin(file, 'train', { repo: 'images', branch: 'main', commit: c1 });
  return file;
}

describe.skipIf(!built)('datactl pin', () => {
  it('writes the pin the bumper writes, keeping other keys, and prints it with --json', async () => {
    const file = path.join(fresh('code'), 'configuration', 'data.json');
    await writePin(file, 'eval', { repo: 'labels', branch: 'main', commit: 'f'.repeat(64) });
    const r = await cli(['pin', 'images@main', '--file', file, '--key', 'train', '--json'], fresh('cache'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ repo: 'images', branch: 'main', commit: c2 });
    const expected = { eval: { repo: 'labels', branch: 'main', commit: 'f'.repeat(64) }, train: { repo: 'images', branch: 'main', commit: c2 } };
    expect(await readFile(file, 'utf8')).toBe(`${JSON.stringify(expected, null, 2)}\n`);
  });

  it('records the branch for branch~N and null for a commit id', async () => {
    const file = path.join(fresh('code'), 'data.json');
    const back = await cli(['pin', 'images@main~1', '--file', file, '--key', 'train', '--json'], fresh('cache'));
    expect(JSON.parse(back.stdout)).toEqual({ repo: 'images', branch: 'main', commit: c1 });
    const byId = await cli(['pin', `images@${c1.slice(0, 10)}`, '--file', file, '--key', 'train'], fresh('cache'));
    expect(byId.code).toBe(0);
    expect(byId.stdout).toContain(`pinned train in ${file} to images@${c1.slice(0, 12)}`);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ train: { repo: 'images', branch: null, commit: c1 } });
  });

  it('fails with exit 3 for an unknown ref and leaves the file alone', async () => {
    const file = await pinnedAtC1();
    const before = await readFile(file, 'utf8');
    const r = await cli(['pin', 'images@nosuchbranch', '--file', file, '--key', 'train'], fresh('cache'));
    expect(r.code).toBe(3);
    expect(await readFile(file, 'utf8')).toBe(before);
  });
});

describe.skipIf(!built)('datactl pull', () => {
  it('fetches exactly the pinned commit even after the branch moved on', async () => {
    const file = await pinnedAtC1();
    const out = fresh('out');
    const r = await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--json'], fresh('cache'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ commit: c1, files: 4, bytes: V1_BYTES, downloadedBytes: V1_BYTES, cachedFiles: 0 });
    expect(await filesUnder(out)).toEqual(hashes(V1));
  });

  it('downloads nothing the second time: files in place are kept, others come from the cache', async () => {
    const file = await pinnedAtC1();
    const cache = fresh('cache');
    const out = fresh('out');
    await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--json'], cache);
    const again = JSON.parse((await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--json'], cache)).stdout);
    expect(again).toMatchObject({ commit: c1, files: 4, downloadedBytes: 0, upToDateFiles: 4 });
    const other = fresh('out');
    const fromCache = JSON.parse((await cli(['pull', '--file', file, '--key', 'train', '-o', other, '--json'], cache)).stdout);
    expect(fromCache).toMatchObject({ downloadedBytes: 0, downloadedFiles: 0, cachedFiles: 4 });
    expect(await filesUnder(other)).toEqual(hashes(V1));
    const hash = blake3Hex(V1['/train/labels.csv']!);
    expect(existsSync(path.join(cache, 'files', hash.slice(0, 2), hash))).toBe(true);
  });

  it('fetches only the given repo paths', async () => {
    const file = await pinnedAtC1();
    const out = fresh('out');
    const r = await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--json', '/eval', '/train/labels.csv'], fresh('cache'));
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 2 });
    expect(await filesUnder(out)).toEqual(hashes(V1, '/eval/x.txt', '/train/labels.csv'));
  });

  it('refuses a pin that names only a branch unless --allow-branch, then says which commit it used', async () => {
    const file = path.join(fresh('code'), 'data.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ train: { repo: 'images', branch: 'main' } }));
    const out = fresh('out');
    const refused = await cli(['pull', '--file', file, '--key', 'train', '-o', out], fresh('cache'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^datactl: pin "train" in .* names no commit: a pull must be reproducible; .*--allow-branch/);
    expect(existsSync(out)).toBe(false);
    const allowed = await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--allow-branch', '--json'], fresh('cache'));
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toContain(`names only branch main; used its current head ${c2}`);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ commit: c2, resolvedFromBranch: true, files: 5 });
  });

  it('never trades a pin that names a commit for the branch head, even with --allow-branch', async () => {
    const file = path.join(fresh('code'), 'data.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({
      prefix: { repo: 'images', branch: 'main', commit: c1.slice(0, 8) },
      ref: { repo: 'images', branch: 'main', commit: 'main~1' },
      upper: { repo: 'images', branch: 'main', commit: c1.toUpperCase() },
    }));
    for (const key of ['prefix', 'ref']) {
      const out = fresh('out');
      const r = await cli(['pull', '--file', file, '--key', key, '-o', out, '--allow-branch'], fresh('cache'));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^datactl: pin "${key}" in .* names ".*", not a 64-hex commit id: a pin must name its commit in full`));
      expect(existsSync(out)).toBe(false);
    }
    // A full id in capitals names one commit all the same: c1's files, not the head's.
    const out = fresh('out');
    const upper = await cli(['pull', '--file', file, '--key', 'upper', '-o', out, '--allow-branch', '--json'], fresh('cache'));
    expect(JSON.parse(upper.stdout)).toMatchObject({ commit: c1, resolvedFromBranch: false });
    expect(await filesUnder(out)).toEqual(hashes(V1));
  });

  it('detects a corrupted cache entry, downloads the file again and repairs the entry', async () => {
    const file = await pinnedAtC1();
    const cache = fresh('cache');
    await cli(['pull', '--file', file, '--key', 'train', '-o', fresh('out'), '--json'], cache);
    const labels = V1['/train/labels.csv']!;
    const hash = blake3Hex(labels);
    const entry = path.join(cache, 'files', hash.slice(0, 2), hash);
    const corrupted = Buffer.from(labels);
    corrupted[3] ^= 0xff; // same size, different bytes
    await writeFile(entry, corrupted);
    const out = fresh('out');
    const r = JSON.parse((await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--json'], cache)).stdout);
    expect(r).toMatchObject({ downloadedFiles: 1, downloadedBytes: labels.length, cachedFiles: 3 });
    expect(await filesUnder(out)).toEqual(hashes(V1));
    expect(await readFile(entry)).toEqual(labels);
  });

  it('replaces a local file whose content differs from the pin', async () => {
    const file = await pinnedAtC1();
    const out = fresh('out');
    const cache = fresh('cache');
    await cli(['pull', '--file', file, '--key', 'train', '-o', out], cache);
    await writeFile(path.join(out, 'train', 'labels.csv'), 'edited locally\n');
    const r = JSON.parse((await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--json'], cache)).stdout);
    expect(r).toMatchObject({ downloadedBytes: 0, cachedFiles: 1, upToDateFiles: 3 });
    expect(await filesUnder(out)).toEqual(hashes(V1));
  });
});

describe.skipIf(!built)('datactl pull into a directory holding files the commit lacks', () => {
  /** Leftovers of an earlier pull: a file, a directory of two, a symlink to a file outside, and a directory where the commit has a file. */
  async function withLeftovers(out: string, outside: string): Promise<void> {
    await mkdir(path.join(out, 'train', 'images', 'old'), { recursive: true });
    await writeFile(path.join(out, 'train', 'gone.csv'), 'dropped from the data\n');
    await writeFile(path.join(out, 'train', 'images', 'old', 'a.bin'), 'a');
    await writeFile(path.join(out, 'train', 'images', 'old', 'b.bin'), 'b');
    await writeFile(outside, 'not the pull\'s to remove\n');
    await symlink(outside, path.join(out, 'train', 'link.csv'));
    await mkdir(path.join(out, 'eval', 'x.txt'), { recursive: true });
    await writeFile(path.join(out, 'eval', 'x.txt', 'inner'), 'in the way\n');
  }

  it('leaves them by default, counts them and says how to remove them', async () => {
    const file = await pinnedAtC1();
    const out = fresh('out');
    await withLeftovers(out, path.join(work, `outside-${++n}.csv`));
    await rm(path.join(out, 'eval'), { recursive: true }); // the directory in the way is --delete's case
    const r = await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--json'], fresh('cache'));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ commit: c1, files: 4, extraFiles: 4, removedFiles: 0 });
    expect(r.stderr).toBe(`datactl: warning: 4 files in ${out} are not in the commit and were left alone (--delete removes them)\n`);
    const found = await filesUnder(out);
    expect(Object.keys(found).sort()).toEqual([...Object.keys(V1), '/train/gone.csv', '/train/images/old/a.bin', '/train/images/old/b.bin'].sort());
    expect(existsSync(path.join(out, 'train', 'link.csv'))).toBe(true);
  });

  it('with --delete makes each pulled directory an exact copy, removing links but not their targets', async () => {
    const file = await pinnedAtC1();
    const out = fresh('out');
    const outside = path.join(work, `outside-${++n}.csv`);
    await withLeftovers(out, outside);
    const r = await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--delete', '--json'], fresh('cache'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // 5: gone.csv, old/a.bin, old/b.bin, link.csv, and the file inside the directory at /eval/x.txt.
    expect(JSON.parse(r.stdout)).toMatchObject({ commit: c1, files: 4, downloadedBytes: V1_BYTES, extraFiles: 5, removedFiles: 5 });
    expect(await filesUnder(out)).toEqual(hashes(V1));
    expect(existsSync(path.join(out, 'train', 'images', 'old'))).toBe(false);
    expect(await readFile(outside, 'utf8')).toBe('not the pull\'s to remove\n');
    const text = await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--delete'], fresh('cache'));
    expect(text.stdout).toMatch(/already up to date\n$/); // nothing left to remove, so no "removed" clause
  });

  it('with --delete and paths touches only those paths', async () => {
    const file = await pinnedAtC1();
    const out = fresh('out');
    await mkdir(path.join(out, 'train'), { recursive: true });
    await mkdir(path.join(out, 'eval'), { recursive: true });
    await writeFile(path.join(out, 'train', 'gone.csv'), 'x');
    await writeFile(path.join(out, 'eval', 'mine.txt'), 'y');
    await writeFile(path.join(out, 'notes.md'), 'z');
    const r = await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--delete', '/train'], fresh('cache'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/; removed 1 not in the commit\n$/);
    expect(Object.keys(await filesUnder(out)).sort()).toEqual(['/eval/mine.txt', '/notes.md', '/train/images/big.bin', '/train/images/small.bin', '/train/labels.csv']);
  });

  it('refuses --delete where it would take a git repository or the content cache, removing nothing', async () => {
    const file = await pinnedAtC1();
    const out = fresh('out');
    await mkdir(path.join(out, '.git'), { recursive: true });
    await writeFile(path.join(out, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(path.join(out, 'train.py'), 'print("code")\n');
    const git = await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--delete'], fresh('cache'));
    expect(git.code).toBe(2);
    expect(git.stderr).toBe(`datactl: refusing to delete ${path.join(out, '.git')}: it is a git repository, not data the commit dropped; pull into a directory of its own\n`);
    expect(Object.keys(await filesUnder(out)).sort()).toEqual(['/.git/HEAD', '/train.py']);

    const nested = fresh('out');
    await mkdir(path.join(nested, 'vendor', 'lib', '.git'), { recursive: true });
    const sub = await cli(['pull', '--file', file, '--key', 'train', '-o', nested, '--delete'], fresh('cache'));
    expect(sub.stderr).toBe(`datactl: refusing to delete ${path.join(nested, 'vendor')}: it holds a git repository, not data the commit dropped; pull into a directory of its own\n`);
    expect(existsSync(path.join(nested, 'vendor', 'lib', '.git'))).toBe(true);

    const data = fresh('out');
    const cache = path.join(data, 'cache');
    await mkdir(cache, { recursive: true });
    const cached = await cli(['pull', '--file', file, '--key', 'train', '-o', data, '--delete'], cache);
    expect(cached.code).toBe(2);
    expect(cached.stderr).toContain(`refusing to delete ${cache}: it is the content cache`);
    expect(existsSync(cache)).toBe(true);
  });

  it('with --delete follows a linked output directory and a link where the commit has a directory', async () => {
    const file = await pinnedAtC1();
    const real = fresh('real');
    const images = fresh('images');
    await mkdir(path.join(real, 'train'), { recursive: true });
    await mkdir(images, { recursive: true });
    await writeFile(path.join(real, 'train', 'gone.csv'), 'x');
    await writeFile(path.join(images, 'old.bin'), 'y');
    await symlink(images, path.join(real, 'train', 'images'));
    const out = fresh('out');
    await symlink(real, out);
    const r = await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--delete', '--json'], fresh('cache'));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 4, extraFiles: 2, removedFiles: 2 });
    expect(await filesUnder(real)).toEqual(hashes(V1, '/train/labels.csv', '/eval/x.txt'));
    expect(await filesUnder(images)).toEqual({ '/big.bin': blake3Hex(V1['/train/images/big.bin']!), '/small.bin': blake3Hex(V1['/train/images/small.bin']!) });
    expect(lstatSync(out).isSymbolicLink() && lstatSync(path.join(real, 'train', 'images')).isSymbolicLink()).toBe(true);
  });

  it('with --delete and a requested file path removes a directory standing there', async () => {
    const file = await pinnedAtC1();
    const out = fresh('out');
    await mkdir(path.join(out, 'train', 'labels.csv', 'sub'), { recursive: true });
    await writeFile(path.join(out, 'train', 'labels.csv', 'sub', 'x'), 'x');
    const r = await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--delete', '--json', '/train/labels.csv'], fresh('cache'));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 1, extraFiles: 1, removedFiles: 1 });
    expect(await filesUnder(out)).toEqual(hashes(V1, '/train/labels.csv'));
  });

  // chattr +i makes a directory refuse new files even to root: a download that fails part way.
  const immutable = (dir: string, on: boolean) => execFileSync('chattr', [on ? '+i' : '-i', dir], { stdio: 'ignore' });
  const canChattr = (() => {
    try {
      const dir = path.join(os.tmpdir(), `datactl-chattr-${process.pid}`);
      execFileSync('mkdir', ['-p', dir]);
      immutable(dir, true);
      immutable(dir, false);
      execFileSync('rmdir', [dir]);
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!canChattr)('with --delete keeps the old files when the download fails part way', async () => {
    const file = await pinnedAtC1();
    const out = fresh('out');
    await mkdir(path.join(out, 'train'), { recursive: true });
    await mkdir(path.join(out, 'eval', 'x.txt'), { recursive: true }); // in the way: goes first
    await writeFile(path.join(out, 'notes.csv'), 'an old file\n');
    immutable(path.join(out, 'train'), true);
    try {
      const r = await cli(['pull', '--file', file, '--key', 'train', '-o', out, '--delete'], fresh('cache'));
      expect(r.code).not.toBe(0);
      expect(await readFile(path.join(out, 'notes.csv'), 'utf8')).toBe('an old file\n');
      const inTheWay = path.join(out, 'eval', 'x.txt');
      expect(existsSync(inTheWay) && lstatSync(inTheWay).isDirectory()).toBe(false); // it went first
    } finally {
      immutable(path.join(out, 'train'), false);
    }
  });

  it('counts nothing without -o: the default "." is usually the code repo', async () => {
    const file = await pinnedAtC1();
    const repo = await mkdtemp(path.join(work, 'cwd-'));
    await writeFile(path.join(repo, 'train.py'), 'print("code")\n');
    const r = await runCli(['pull', '--file', file, '--key', 'train', '--json'], { cwd: repo, env: { DATACTL_URL: server.url, DATACTL_CACHE_DIR: fresh('cache') } });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 4, extraFiles: 0, removedFiles: 0 });
    expect(existsSync(path.join(repo, 'train.py'))).toBe(true);
  });

  it('refuses --delete without -o, before reading the pin or touching a file', async () => {
    const r = await cli(['pull', '--file', path.join(work, 'no-such-pin.json'), '--key', 'train', '--delete'], fresh('cache'));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('datactl: pull --delete needs the output directory named (-o DIR): it removes every file there that the commit does not have\n');
  });
});

describe('the pin and pull SDK', () => {
  it('resolves, pins, reads and pulls programmatically', async () => {
    const client = new DatactlClient({ baseUrl: server.url });
    const pin = await pinRef(client, 'images', 'main~1');
    expect(pin).toEqual({ repo: 'images', branch: 'main', commit: c1 });
    const file = path.join(fresh('code'), 'data.json');
    expect(await writePin(file, 'train', pin)).toEqual({ pin, changed: true });
    expect(await writePin(file, 'train', pin)).toEqual({ pin, changed: false });
    expect(await readPin(file, 'train')).toEqual(pin);
    await expect(readPin(file, 'eval')).rejects.toThrow(/has no key "eval" \(it has "train"\)/);
    const out = fresh('out');
    const result = await pull(client, { file, key: 'train', output: out, cacheDir: null, paths: ['/train/images'] });
    expect(result).toMatchObject({ repo: 'images', commit: c1, files: 2, downloadedFiles: 2, cachedFiles: 0 });
    expect(await filesUnder(out)).toEqual(hashes(V1, '/train/images/big.bin', '/train/images/small.bin'));
  });
});
