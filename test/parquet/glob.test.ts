import { describe, expect, it } from 'vitest';
import { globMatch } from '../../src/parquet/index.js';

const cases: [glob: string, path: string, matches: boolean][] = [
  ['/train/*.parquet', '/train/a.parquet', true],
  ['/train/*.parquet', '/train/x/a.parquet', false],
  ['/train/*.parquet', '/train/a.csv', false],
  ['/train/*.parquet', '/test/a.parquet', false],
  ['train/*.parquet', '/train/a.parquet', true],
  ['/train/**', '/train/a.parquet', true],
  ['/train/**', '/train/x/y/z.parquet', true],
  ['/train/**', '/trainer/a.parquet', false],
  ['/train/**/*.parquet', '/train/a.parquet', true],
  ['/train/**/*.parquet', '/train/2024/01/a.parquet', true],
  ['/train/**/*.parquet', '/train/2024/01/a.json', false],
  ['/**/*.parquet', '/a.parquet', true],
  ['**/*.parquet', '/deep/er/a.parquet', true],
  ['**', '/anything/at/all', true],
  ['/*.parquet', '/a.parquet', true],
  ['/*.parquet', '/dir/a.parquet', false],
  ['/data/part-?.parquet', '/data/part-7.parquet', true],
  ['/data/part-?.parquet', '/data/part-17.parquet', false],
  ['/data/part-?.parquet', '/data/part-/.parquet', false],
  ['/a.parquet', '/a.parquet', true],
  ['/a.parquet', '/b/a.parquet', false],
  ['/a.parquet', '/a.parquet.bak', false],
  ['/a.parquet', '/aXparquet', false],
  ['/d/(x)+[y]$.parquet', '/d/(x)+[y]$.parquet', true],
  ['/*/*/*.parquet', '/a/b/c.parquet', true],
  ['/*/*/*.parquet', '/a/c.parquet', false],
  ['/x/**/y/**/z', '/x/y/z', true],
  ['/x/**/y/**/z', '/x/1/2/y/3/z', true],
  ['/x/**/y/**/z', '/x/1/2/3/z', false],
  ['/train/a**b', '/train/aXXb', true],
  ['/train/a**b', '/train/aX/Xb', false],
];

describe('path globs', () => {
  for (const [glob, path, matches] of cases) {
    it(`${matches ? 'matches' : 'does not match'} ${path} with ${glob}`, () => {
      expect(globMatch(glob, path)).toBe(matches);
    });
  }

  it('stays fast with many ** segments against a deep path', () => {
    const deep = `/${Array.from({ length: 60 }, (_, i) => `d${i}`).join('/')}/file.csv`;
    const start = Date.now();
    expect(globMatch('/**/**/**/**/**/**/**/**/*.parquet', deep)).toBe(false);
    expect(Date.now() - start).toBeLessThan(500);
  });
});
