import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileSink } from '../../cli/transfer/sinks.js';
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

  it('leaves nothing behind when aborted', async () => {
    const sink = await openFileSink(path.join(dir, 'gone.bin'));
    await sink.write(seededBytes(4, 3 * 1024 * 1024));
    await sink.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});
