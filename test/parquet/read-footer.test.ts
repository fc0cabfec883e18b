/** Footer-only reading and the reasons given for files that are not readable Parquet. */
import { describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import { readParquetInfo } from '../../src/parquet/index.js';
import { fixtureBytes, infoOf, infoOfBytes, recordingReader } from './helpers.js';

describe('reading only the tail', () => {
  for (const rel of ['duckdb/row-groups.parquet', 'arrow-rs/row-groups.parquet']) {
    it(`reads the 4-byte header, the 8-byte tail and the footer of ${rel}, nothing else`, async () => {
      const bytes = fixtureBytes(rel);
      const reader = recordingReader(bytes);
      const info = await readParquetInfo(bytes.length, reader.readRange);
      if (!info.ok) throw new Error(info.error);
      expect(reader.ranges).toContainEqual([0, 4]);
      expect(reader.ranges).toContainEqual([bytes.length - 8, bytes.length]);
      expect(reader.ranges).toContainEqual([bytes.length - 8 - info.footerBytes, bytes.length - 8]);
      expect(reader.bytesRead()).toBe(info.footerBytes + 8 + 4);
      expect(reader.bytesRead()).toBeLessThan(bytes.length / 10);
    });
  }

  it('skips the header read when asked', async () => {
    const bytes = fixtureBytes('duckdb/row-groups.parquet');
    const reader = recordingReader(bytes);
    const info = await readParquetInfo(bytes.length, reader.readRange, { checkHeader: false });
    expect(info.ok).toBe(true);
    expect(reader.bytesRead()).toBe((info.ok ? info.footerBytes : 0) + 8);
  });

  it('refuses a footer above the configured limit without reading it', async () => {
    const bytes = fixtureBytes('duckdb/row-groups.parquet');
    const reader = recordingReader(bytes);
    const info = await readParquetInfo(bytes.length, reader.readRange, { maxFooterBytes: 1000 });
    expect(info).toEqual({ ok: false, error: expect.stringMatching(/^footer is 3216 bytes, above the 1000-byte limit$/) });
    expect(reader.bytesRead()).toBe(12);
  });

  it('throws, rather than blaming the file, when the store returns a short range', async () => {
    const bytes = fixtureBytes('duckdb/uncompressed.parquet');
    const short = async (start: number, end: number) => bytes.subarray(start, end - 1);
    await expect(readParquetInfo(bytes.length, short)).rejects.toBeInstanceOf(DatactlError);
  });

  it('lets storage errors from readRange propagate', async () => {
    const boom = async () => { throw new Error('disk on fire'); };
    await expect(readParquetInfo(100, boom)).rejects.toThrow('disk on fire');
  });
});

describe('files that are not readable Parquet', () => {
  it('reports a wrong trailing magic', async () => {
    expect(await infoOf('broken/bad-magic.parquet')).toEqual({
      ok: false, error: 'missing PAR1 magic at end of file (found "PAR0"): the file is truncated or corrupt',
    });
  });

  it('reports a file cut inside its footer as truncated', async () => {
    const info = await infoOf('broken/truncated.parquet');
    expect(info.ok).toBe(false);
    expect(!info.ok && info.error).toMatch(/^missing PAR1 magic at end of file \(found 0x[0-9a-f]{8}\): the file is truncated or corrupt$/);
  });

  it('reports a file with no magic at either end as not Parquet', async () => {
    expect(await infoOf('broken/not-parquet.parquet')).toEqual({
      ok: false, error: 'missing PAR1 magic at start and end (found "id,n" and 0x626f620a): not a Parquet file',
    });
  });

  it('reports files shorter than the smallest possible Parquet file', async () => {
    expect(await infoOfBytes(new Uint8Array(0))).toEqual({ ok: false, error: 'file is 0 bytes, shorter than the 12-byte minimum of a Parquet file' });
    expect(await infoOfBytes(Buffer.from('PAR1PAR1'))).toEqual({ ok: false, error: 'file is 8 bytes, shorter than the 12-byte minimum of a Parquet file' });
  });

  it('reports a wrong leading magic when the tail is intact', async () => {
    const bytes = Buffer.from(fixtureBytes('duckdb/uncompressed.parquet'));
    bytes.write('XXXX', 0, 'latin1');
    expect(await infoOfBytes(bytes)).toEqual({ ok: false, error: 'missing PAR1 magic at start of file (found "XXXX")' });
  });

  it('reports an encrypted footer as unsupported', async () => {
    const bytes = Buffer.from(fixtureBytes('duckdb/uncompressed.parquet'));
    bytes.write('PARE', bytes.length - 4, 'latin1');
    expect(await infoOfBytes(bytes)).toEqual({ ok: false, error: 'footer is encrypted (PARE magic); encrypted Parquet is not supported' });
  });

  it('reports a footer length larger than the file', async () => {
    const bytes = Buffer.from(fixtureBytes('duckdb/uncompressed.parquet'));
    bytes.writeUInt32LE(0x7fffffff, bytes.length - 8);
    expect(await infoOfBytes(bytes)).toEqual({
      ok: false, error: `footer length 2147483647 exceeds the ${bytes.length - 12} bytes the file has room for: truncated or corrupt`,
    });
  });

  it('reports a zero footer length', async () => {
    const bytes = Buffer.from(fixtureBytes('duckdb/uncompressed.parquet'));
    bytes.writeUInt32LE(0, bytes.length - 8);
    expect(await infoOfBytes(bytes)).toEqual({ ok: false, error: 'footer length is 0' });
  });

  it('reports footer bytes that do not decode as Thrift metadata', async () => {
    const bytes = Buffer.from(fixtureBytes('duckdb/uncompressed.parquet'));
    const footerLength = bytes.readUInt32LE(bytes.length - 8);
    bytes.fill(0xff, bytes.length - 8 - footerLength, bytes.length - 8);
    const info = await infoOfBytes(bytes);
    expect(info.ok).toBe(false);
    expect(!info.ok && info.error).toMatch(/^footer cannot be decoded: /);
  });

  it('reports a footer length that points into the data pages', async () => {
    const bytes = Buffer.from(fixtureBytes('duckdb/uncompressed.parquet'));
    const footerLength = bytes.readUInt32LE(bytes.length - 8);
    bytes.writeUInt32LE(footerLength + 40, bytes.length - 8);
    const info = await infoOfBytes(bytes);
    expect(info.ok).toBe(false);
    expect(!info.ok && info.error).toMatch(/^footer (cannot be decoded: |is inconsistent: |lacks the required FileMetaData field )/);
  });
});

describe('damaged footers, exhaustively', () => {
  /** Rebuild a file around a replacement footer, with a consistent length field. */
  function withFooter(original: Buffer, footer: Uint8Array): Buffer {
    const oldLength = original.readUInt32LE(original.length - 8);
    const body = original.subarray(0, original.length - 8 - oldLength);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(footer.length);
    return Buffer.concat([body, footer, length, Buffer.from('PAR1')]);
  }

  function footerOf(bytes: Buffer): Buffer {
    const length = bytes.readUInt32LE(bytes.length - 8);
    return bytes.subarray(bytes.length - 8 - length, bytes.length - 8);
  }

  it('reports every proper prefix of a footer as not readable', async () => {
    const original = fixtureBytes('arrow-rs/nested.parquet');
    const footer = footerOf(original);
    for (let cut = 1; cut < footer.length; cut++) {
      const info = await infoOfBytes(withFooter(original, footer.subarray(0, cut)));
      expect(info.ok, `footer cut to ${cut} bytes`).toBe(false);
    }
  });

  it('never throws on randomly corrupted footers, and whatever it returns is JSON', async () => {
    let seed = 0x2545f491;
    const random = () => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    for (const rel of ['duckdb/nested.parquet', 'arrow-rs/types.parquet']) {
      const original = fixtureBytes(rel);
      const footer = footerOf(original);
      for (let round = 0; round < 300; round++) {
        const damaged = Buffer.from(footer);
        const flips = 1 + Math.floor(random() * 4);
        for (let i = 0; i < flips; i++) damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
        const info = await infoOfBytes(withFooter(original, damaged));
        expect(JSON.parse(JSON.stringify(info))).toEqual(info);
        if (!info.ok) expect(info.error).toMatch(/^(footer|schema|row group|metadata|num_rows|total_)/);
      }
    }
  });
});
