import { describe, expect, it } from 'vitest';
import { PathTable } from '../../cli/transfer/path-table.js';

/** Records as the put index lays them out: a type byte, a u16 length, the path's UTF-8 bytes. */
function records(paths: string[]): { bytes: Buffer; at: number[] } {
  const at: number[] = [];
  const parts = paths.map((p) => {
    const path = Buffer.from(p);
    const head = Buffer.from([1, 0, 0]);
    head.writeUInt16LE(path.length, 1);
    return Buffer.concat([head, path]);
  });
  let offset = 0;
  for (const part of parts) {
    at.push(offset);
    offset += part.length;
  }
  return { bytes: Buffer.concat(parts), at };
}

describe('the path table of the put index', () => {
  it('finds each record by its path, whole or as a prefix plus a range of a larger string', () => {
    const { bytes, at } = records(['/t/a.txt', '/t/b.txt', '/data/train/x.csv']);
    const table = PathTable.create(bytes, 3);
    for (const r of at) table.set(r);
    expect(table.get('/t/b.txt')).toBe(at[1]);
    expect(table.getJoined('/data/', 'junk\0train/x.csv\0more', 5, 16)).toBe(at[2]);
    expect(table.get('/t/c.txt')).toBe(-1);
    expect(table.get('/t/a.tx')).toBe(-1);
    expect(table.size).toBe(3);
  });

  it('compares names beyond ASCII as UTF-8: "Ã©" is not "é", though its chars are the bytes of "é"', () => {
    const { bytes, at } = records(['/d/é.txt', '/d/日本.csv']);
    const table = PathTable.create(bytes, 2);
    for (const r of at) table.set(r);
    expect(table.get('/d/é.txt')).toBe(at[0]);
    expect(table.getJoined('/d/', '日本.csv', 0, 6)).toBe(at[1]);
    expect(table.get('/d/Ã©.txt')).toBe(-1);
    expect(table.holds(at[0]!, '/d/', 'Ã©.txt', 0, 6)).toBe(false);
    expect(table.holds(at[0]!, '/d/', 'é.txt', 0, 5)).toBe(false); // holds compares ASCII only; get encodes
  });

  it('replaces a record of the same path and deletes by path, saying which record went', () => {
    const { bytes, at } = records(['/x', '/y', '/x']);
    const table = PathTable.create(bytes, 3);
    expect(table.set(at[0]!)).toBe(-1);
    expect(table.set(at[1]!)).toBe(-1);
    expect(table.set(at[2]!)).toBe(at[0]);
    expect(table.get('/x')).toBe(at[2]);
    expect(table.delete(at[0]!)).toBe(at[2]); // the path /x, whichever record names it
    expect(table.get('/x')).toBe(-1);
    expect(table.get('/y')).toBe(at[1]);
    expect(table.size).toBe(1);
    expect([...table.records()]).toEqual([at[1]]);
  });

  it('a restored table whose slots point anywhere finds nothing, and a full one does not loop', () => {
    const { bytes } = records(['/a', '/b']);
    const slots = new Int32Array(16).map((_, i) => i * 1000 - 3); // out of range, negative, mid-record
    const table = PathTable.restore(bytes, slots, 2);
    expect(table.get('/a')).toBe(-1);
    expect(table.getJoined('/', 'b', 0, 1)).toBe(-1);
    expect(table.set(0)).toBe(-1); // no empty slot: not added, but no hang
  });
});
