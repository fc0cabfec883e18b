/**
 * A chunk damaged in the store is repaired by putting its bytes again: the failing get has the
 * server re-hash its copy, which marks it damaged and drops every repo's claim to it; the next put
 * of those bytes stores a fresh copy, and old commits read correctly again. Real CLI, real server.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/errors.js';
import { chunkBytes } from '../helpers/upload.js';
import { runCli } from '../helpers/cli.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { api, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let work: string;
const data = seededBytes(44, 3 * 1024 * 1024 + 17);
const { manifest } = chunkBytes(data);

const cli = (...args: string[]) => runCli(['--server', server.url, ...args], { env: { DATACTL_CACHE_DIR: path.join(work, 'cache') } });

beforeAll(async () => {
  server = await startTestServer();
  work = await mkdtemp(path.join(os.tmpdir(), 'datactl-repair-'));
  await writeFile(path.join(work, 'data.bin'), data);
  for (const repo of ['r', 'other']) {
    expect((await cli('repo', 'create', repo)).code).toBe(0);
    expect((await cli('put', 'file', `${repo}@main:/data.bin`, '-f', path.join(work, 'data.bin'))).code).toBe(0);
  }
}, 60_000);
afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Flip a byte inside `chunk`'s bytes wherever a pack holds them. */
async function damage(chunk: Uint8Array): Promise<void> {
  const packs = path.join(server.dataDir, 'objects', 'packs');
  for (const e of await readdir(packs, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    const bytes = await readFile(file);
    const at = bytes.indexOf(chunk.subarray(0, 64));
    if (at < 0) continue;
    bytes[at + 100] ^= 0x01;
    await writeFile(file, bytes);
  }
}

describe('a chunk damaged in the store', () => {
  it('is found by the failing get, marked on the server, and repaired by putting the bytes again', async () => {
    expect(manifest.chunks.length).toBeGreaterThan(2);
    const [hash, size] = manifest.chunks[1]!;
    const offset = manifest.chunks[0]![1];
    const head = JSON.parse((await cli('inspect', 'commit', 'r@main', '--json')).stdout).id as string;
    // The server's check of an intact chunk changes nothing; one the repo does not hold is not looked at.
    expect((await api(server.url, 'POST', '/v1/repos/r/chunks/check', { hashes: [manifest.chunks[0]![0]] })).json).toEqual({ checked: 1, damaged: [] });
    expect((await api(server.url, 'POST', '/v1/repos/r/chunks/check', { hashes: ['0'.repeat(64)] })).json).toEqual({ checked: 0, damaged: [] });

    await damage(data.subarray(offset, offset + size));
    const out = path.join(work, 'out.bin');
    const failed = await cli('get', 'file', `r@${head}:/data.bin`, '-o', out);
    expect(failed.code).toBe(EXIT.INTEGRITY);
    expect(failed.stderr).toContain(`integrity check failed for /data.bin: chunk 1 hashes to`);
    expect(failed.stderr).toContain(`the server's copy of chunk ${hash} is damaged: it is marked so, and putting a file that holds it again (from a good copy; put --no-index if that file was put from here before) repairs every commit that names it`);
    // Every repo that held it must send it again; a read of it says what to do instead of serving bad bytes.
    for (const repo of ['r', 'other']) expect((await api(server.url, 'POST', `/v1/repos/${repo}/chunks/missing`, { hashes: [hash] })).json.missing).toEqual([hash]);
    // Checking again reports it damaged (the repo still holds it, marked).
    expect((await api(server.url, 'POST', '/v1/repos/r/chunks/check', { hashes: [hash] })).json).toEqual({ checked: 1, damaged: [hash] });
    const served = await fetch(`${server.url}/v1/repos/r/commits/${head}/file?path=/data.bin`);
    expect(served.status).toBe(500);
    expect(((await served.json()) as { error: { message: string } }).error.message).toContain(`chunk ${hash} is damaged in the object store: put a file that holds it again`);

    // The repair: the same bytes put again uploads that chunk, and the old commit reads right. The
    // put index would skip the file as unchanged since its last put from here, hence --no-index.
    const again = JSON.parse((await cli('put', 'file', 'r@main:/data.bin', '-f', path.join(work, 'data.bin'), '--no-index', '--json')).stdout);
    expect(again).toMatchObject({ uploadedChunks: 1, uploadedBytes: size });
    const repaired = await cli('get', 'file', `r@${head}:/data.bin`, '-o', out);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect((await readFile(out)).equals(data)).toBe(true);
    // The other repo reads the fresh copy at once: it still holds the chunk, only must send it before committing it again.
    expect((await fetch(`${server.url}/v1/repos/other/chunks/read`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hashes: [hash] }) })).status).toBe(200);
    // The other repo lost its claim too: its next put sends the chunk (proving it has the bytes),
    // which the server takes as the copy it already has again.
    expect(JSON.parse((await cli('put', 'file', 'other@main:/copy.bin', '-f', path.join(work, 'data.bin'), '--json')).stdout)).toMatchObject({ uploadedChunks: 1 });
    expect((await cli('get', 'file', 'other@main:/data.bin', '-o', path.join(work, 'other.bin'))).code).toBe(0);
  });
});
