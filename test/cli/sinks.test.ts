import { spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileSink } from '../../cli/transfer/sinks.js';
import { takesDirectIo } from '../helpers/page-cache.js';
import { mountRamfs, unmountTmpfs } from '../helpers/tmpfs.js';
import { seededBytes } from '../helpers/seeded-bytes.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'datactl-sink-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('file sink', () => {
  it('writes exactly the bytes it was given, whatever the sizes of the writes', async () => {
    const data = seededBytes(3, 5 * 1024 * 1024 + 17);
    const sizes = [1, 65_536, 1024 * 1024, 3, 2 * 1024 * 1024 + 5, 700_000];
    const sink = await openFileSink(path.join(dir, 'out.bin'));
    let offset = 0;
    for (let i = 0; offset < data.length; i++) {
      const n = sizes[i % sizes.length]!;
      // The caller reuses its buffer once a write resolves, as a socket reader does.
      const piece = Buffer.from(data.subarray(offset, offset + n));
      await sink.write(piece);
      piece.fill(0);
      offset += n;
    }
    expect(await readdir(dir)).not.toContain('out.bin'); // not before commit
    await sink.commit();
    expect((await readFile(path.join(dir, 'out.bin'))).equals(data)).toBe(true);
    expect(await readdir(dir)).toEqual(['out.bin']);
  });

  it('writes a large file past the page cache (O_DIRECT), exactly, whatever the sizes of the writes', async () => {
    // From 64 MiB a download bypasses the page cache; its last block is padded, then cut back.
    const size = 64 * 1024 * 1024 + 4097;
    const directIo = await takesDirectIo(dir);
    const data = seededBytes(5, size);
    const sink = await openFileSink(path.join(dir, 'big.bin'), { size });
    const sizes = [65_536, 1, 4 * 1024 * 1024 + 3, 700_000, 65_536 * 3];
    let offset = 0;
    for (let i = 0; offset < data.length; i++) {
      const piece = Buffer.from(data.subarray(offset, offset + sizes[i % sizes.length]!));
      await sink.write(piece);
      piece.fill(0);
      offset += piece.length;
      // Where the filesystem refuses O_DIRECT (tmpfs before Linux 6.6) the sink writes through the cache.
      if (i === 0 && directIo) expect(await openFlags('.big.bin.datactl-tmp-') & constants.O_DIRECT).toBe(constants.O_DIRECT);
    }
    await sink.commit();
    expect((await readFile(path.join(dir, 'big.bin'))).equals(data)).toBe(true);
    expect(await readdir(dir)).toEqual(['big.bin']);
    // Created with the permissions any new file gets (0666 less the umask).
    await writeFile(path.join(dir, 'plain'), '');
    expect((await stat(path.join(dir, 'big.bin'))).mode).toBe((await stat(path.join(dir, 'plain'))).mode);
  });

  it('writes a large file through the page cache, exactly, where the filesystem refuses O_DIRECT (ramfs)', async (ctx) => {
    const ramfs = mountRamfs();
    if (!ramfs) return ctx.skip(); // mounting needs root
    try {
      expect(await takesDirectIo(ramfs)).toBe(false);
      const size = 64 * 1024 * 1024 + 4097;
      const data = seededBytes(6, size);
      const sink = await openFileSink(path.join(ramfs, 'big.bin'), { size });
      for (let offset = 0; offset < size; offset += 3_000_001) await sink.write(Buffer.from(data.subarray(offset, offset + 3_000_001)));
      await sink.commit();
      expect((await readFile(path.join(ramfs, 'big.bin'))).equals(data)).toBe(true);
      expect(await readdir(ramfs)).toEqual(['big.bin']);
    } finally {
      unmountTmpfs(ramfs);
    }
  });

  it('writes a small file through the page cache', async () => {
    const sink = await openFileSink(path.join(dir, 'small.bin'), { size: 1000 });
    await sink.write(seededBytes(6, 1000));
    expect(await openFlags('.small.bin.datactl-tmp-') & constants.O_DIRECT).toBe(0);
    await sink.commit();
    expect(await readFile(path.join(dir, 'small.bin'))).toEqual(Buffer.from(seededBytes(6, 1000)));
  });

  it.each([
    ['through the page cache', 0],
    ['past the page cache', 64 * 1024 * 1024],
  ])('reports a failed disk write to the caller, and aborts cleanly (%s)', async (_how, size) => {
    // A real failure: the file-size limit (ulimit -f, in KiB) makes the disk write fail with
    // EFBIG once the file passes 2 MiB. It must reach the caller (never escape as an unhandled
    // rejection, which would end the process), and abort must leave no temp file.
    const sinks = fileURLToPath(new URL('../../dist/cli/transfer/sinks.js', import.meta.url));
    const script = `
      import { openFileSink } from ${JSON.stringify(sinks)};
      import { readdirSync } from 'node:fs';
      const dir = ${JSON.stringify(dir)};
      const sink = await openFileSink(dir + '/big.bin', { size: ${size} });
      const piece = Buffer.alloc(65536, 1);
      let failed;
      try {
        for (let i = 0; i < 96; i++) {
          await sink.write(piece);
          await new Promise((r) => setTimeout(r, 2)); // as a download waits on the network
        }
        await sink.commit();
      } catch (err) {
        failed = err.code;
        await sink.abort();
      }
      console.log(JSON.stringify({ failed, left: readdirSync(dir) }));
    `;
    const child = spawnSync('bash', ['-c', 'ulimit -f 2048 && exec node --input-type=module -e "$0"', script], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ failed: 'EFBIG', left: [] });
  });

  it('leaves nothing behind when aborted', async () => {
    const sink = await openFileSink(path.join(dir, 'gone.bin'));
    await sink.write(seededBytes(4, 3 * 1024 * 1024));
    await sink.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});

/** The open flags (fdinfo) of this process's one open file whose name starts with `prefix`. */
async function openFlags(prefix: string): Promise<number> {
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (path.basename(target).startsWith(prefix)) {
      const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8');
      return parseInt(/^flags:\s+([0-7]+)/m.exec(info)![1]!, 8);
    }
  }
  throw new Error(`no open file named ${prefix}*`);
}
