import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { blake3Hex, blake3HexParts, EMPTY_HASH, glibcPrebuild } from '../../src/hash/blake3.js';
import { b3sum, hasB3sum } from '../helpers/b3sum.js';

const execFileP = promisify(execFile);
const built = fileURLToPath(new URL('../../dist/src/hash/blake3.js', import.meta.url));

describe('BLAKE3', () => {
  it('hashes as b3sum does, whole or in parts', () => {
    // b3sum of "abc" and of nothing (the BLAKE3 reference vectors)
    expect(blake3Hex('abc')).toBe('6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
    expect(blake3Hex(new Uint8Array(0))).toBe(EMPTY_HASH);
    expect(EMPTY_HASH).toBe('af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
    const bytes = new TextEncoder().encode('abc');
    expect(blake3HexParts([bytes.subarray(0, 1), bytes.subarray(1)])).toBe(blake3Hex('abc'));
  });

  it.skipIf(!hasB3sum)('matches b3sum at every size around the 1 KiB chunk and 64-byte block edges', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'datactl-blake3-'));
    try {
      const bytes = randomBytes(70_000);
      for (const size of [1, 63, 64, 65, 1023, 1024, 1025, 2048, 4097, 65_536, 70_000]) {
        const file = path.join(dir, String(size));
        await writeFile(file, bytes.subarray(0, size));
        const expected = b3sum(file);
        expect(blake3Hex(bytes.subarray(0, size)), `${size} bytes`).toBe(expected);
        expect(blake3Hex(new Uint8Array(bytes.buffer, bytes.byteOffset, size)), `${size} bytes, not a Buffer`).toBe(expected);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The package's loader asks process.report whether libc is musl (~10 ms per thread that loads it).
  it.skipIf(glibcPrebuild() === undefined || !existsSync(built))('loads the glibc prebuild without asking process.report', async () => {
    const script = `process.report.getReport = () => { throw new Error('process.report.getReport was called') };
      const { blake3Hex } = await import(${JSON.stringify(built)});
      process.stdout.write(blake3Hex('abc'));`;
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script]);
    expect(stdout).toBe('6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
  });
});
