/**
 * A download checks every byte against the commit's manifests, whatever the server sends: with a
 * pack damaged on the server's disk, `datactl get -r` fails naming the file, writes no bad bytes
 * and leaves no temp files, through the real CLI and a real server.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/errors.js';
import { blake3Hex } from '../../src/hash/blake3.js';
import { runCli } from '../helpers/cli.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let work: string;
const FILES = 300;

const content = (i: number) => `file ${i}\n`.repeat(20 + (i % 7));
const big = seededBytes(21, 3 * 1024 * 1024 + 5);

beforeAll(async () => {
  server = await startTestServer();
  work = await mkdtemp(path.join(os.tmpdir(), 'datactl-get-integrity-'));
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(work, 'src', `d${i % 3}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `f${String(i).padStart(3, '0')}.txt`), content(i));
  }
  const cli = (args: string[]) => runCli(['--server', server.url, ...args], { env: { DATACTL_CACHE_DIR: path.join(work, 'cache') } });
  expect((await cli(['repo', 'create', 'r'])).code).toBe(0);
  expect((await cli(['put', 'file', 'r@main:/t', '-f', path.join(work, 'src'), '-r', '-m', 'v1'])).code).toBe(0);
  await writeFile(path.join(work, 'big.bin'), big);
  expect((await cli(['put', 'file', 'r@main:/big.bin', '-f', path.join(work, 'big.bin'), '-m', 'big'])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const get = (out: string) => runCli(['--server', server.url, 'get', 'file', 'r@main:/t', '-o', out, '-r', '--json']);

/** Flip a byte of `needle` wherever a pack holds it; the pack files changed. */
async function damagePacks(needle: Buffer, at: number): Promise<string[]> {
  const packs = path.join(server.dataDir, 'objects', 'packs');
  const damaged: string[] = [];
  for (const e of await readdir(packs, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    const bytes = await readFile(file);
    const found = bytes.indexOf(needle);
    if (found < 0) continue;
    bytes[found + at] ^= 0x20; // same length, different bytes
    await writeFile(file, bytes);
    damaged.push(file);
  }
  return damaged;
}

/** Every file below dir, relative path -> text. */
async function filesUnder(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(path.relative(dir, path.join(e.parentPath, e.name)), await readFile(path.join(e.parentPath, e.name), 'utf8'));
  }
  return out;
}

describe('get of a tree', () => {
  it('reproduces every file through the worker-written batches', async () => {
    const out = path.join(work, 'ok');
    const r = await get(out);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: FILES });
    const files = await filesUnder(out);
    expect(files.size).toBe(FILES);
    expect(files.get(path.join('d1', 'f007.txt'))).toBe(content(7));
  });

  it('fails with E_CORRUPT_OBJECT naming the file when a pack is damaged on the server, and writes no bad bytes', async () => {
    expect(await damagePacks(Buffer.from(content(150)), 5), 'the chunk of f150 is in a pack').toHaveLength(1);

    const out = path.join(work, 'bad');
    const r = await get(out);
    expect(r.code, 'the integrity exit code (E_CORRUPT_OBJECT)').toBe(EXIT.INTEGRITY);
    expect(r.stderr).toContain('integrity check failed for /t/d0/f150.txt: chunk 0 hashes to');
    const files = await filesUnder(out);
    expect(files.has(path.join('d0', 'f150.txt'))).toBe(false);
    expect([...files.keys()].filter((f) => f.includes('datactl-tmp'))).toEqual([]);
    for (const [name, text] of files) expect(text, name).toBe(content(Number(/f(\d+)/.exec(name)![1])));
  });
});

describe('get of one large file', () => {
  it('is checked by the client, which asks the server not to re-hash (verify=0): a damaged pack still fails the get, writing nothing', async () => {
    // A byte in the middle of the file, so the damage is past the first chunk.
    expect(await damagePacks(big.subarray(1_500_000, 1_500_064), 10)).toHaveLength(1);
    const url = `${server.url}/v1/repos/r/commits/main/file?path=/big.bin`;
    // The server's own check, for clients that do not check (curl): an error before any byte.
    const checked = await fetch(url);
    expect(checked.status).toBe(500);
    expect(((await checked.json()) as { error: { code: string } }).error.code).toBe('E_CORRUPT_OBJECT');
    // verify=0, what datactl asks for: the bytes as stored, the damage left to the client to find.
    const unchecked = await fetch(`${url}&verify=0`);
    expect(unchecked.status).toBe(200);
    const bytes = Buffer.from(await unchecked.arrayBuffer());
    expect(bytes.length).toBe(big.length);
    expect(blake3Hex(bytes)).not.toBe(blake3Hex(big));
    // Spelled as the other flags are, too.
    const spelled = await fetch(`${url}&verify=false`);
    expect(spelled.status).toBe(200);
    expect(Buffer.from(await spelled.arrayBuffer()).equals(bytes)).toBe(true);

    // To stdout, which cannot take bytes back: only the chunks before the damaged one come out.
    const piped = await runCli(['--server', server.url, 'get', 'file', 'r@main:/big.bin']);
    expect(piped.code, piped.stderr).toBe(EXIT.INTEGRITY);
    expect(piped.stderr).toMatch(/integrity check failed for \/big\.bin: chunk [1-9]\d* hashes to .*; the server's copy of chunk [0-9a-f]{64} is damaged: it is marked so/);
    expect(piped.stdoutBytes.length).toBeGreaterThan(0);
    expect(piped.stdoutBytes.length).toBeLessThanOrEqual(1_500_010);
    expect(piped.stdoutBytes.equals(big.subarray(0, piped.stdoutBytes.length))).toBe(true);

    // That get had the server check its copy, which is now marked damaged: a get to a file is
    // refused by the server, saying how to repair it, and leaves nothing behind.
    const out = path.join(work, 'big-out.bin');
    const r = await runCli(['--server', server.url, 'get', 'file', 'r@main:/big.bin', '-o', out, '--json']);
    expect(r.code, r.stderr).toBe(EXIT.INTEGRITY);
    expect(r.stderr).toMatch(/^datactl: chunk [0-9a-f]{64} is damaged in the object store: put a file that holds it again \(put --no-index if it was put from that machine before\) to repair every commit that names it\n$/);
    expect(await readdir(work)).not.toContain('big-out.bin');
  });
});
