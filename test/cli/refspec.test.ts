import { describe, expect, it } from 'vitest';
import { DatactlError } from '../../src/errors.js';
import { parseBranchSpec, parseExplicitBranchSpec, parseRef, parseRefSpec } from '../../cli/refspec.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof DatactlError) return err.code;
    throw err;
  }
  return undefined;
}

describe('parseRefSpec', () => {
  it('defaults the ref to main when only a repo is given', () => {
    expect(parseRefSpec('images')).toEqual({ repo: 'images', ref: 'main', explicitRef: false, path: undefined, pathIsDir: false });
  });

  it('reads REPO@BRANCH and REPO@REF:/PATH', () => {
    expect(parseRefSpec('images@dev')).toMatchObject({ repo: 'images', ref: 'dev', explicitRef: true, path: undefined });
    expect(parseRefSpec('images@main:/data/x.csv')).toMatchObject({ ref: 'main', path: '/data/x.csv', pathIsDir: false });
  });

  it('accepts commit ids and prefixes with ~N and ^ suffixes', () => {
    const id = 'ab'.repeat(32);
    expect(parseRefSpec(`images@${id}`).ref).toBe(id);
    expect(parseRefSpec(`images@${id.toUpperCase()}~1`).ref).toBe(`${id}~1`);
    expect(parseRefSpec('images@deadbeef~2^^:/a').ref).toBe('deadbeef~2^^');
    expect(parseRefSpec('images@main~10').ref).toBe('main~10');
  });

  it('reads REPO:/PATH as the main branch', () => {
    expect(parseRefSpec('images:/a/b')).toMatchObject({ ref: 'main', path: '/a/b' });
  });

  it('normalizes the path: adds the leading slash, marks trailing slash and root as directories', () => {
    expect(parseRefSpec('r@main:a/b')).toMatchObject({ path: '/a/b', pathIsDir: false });
    expect(parseRefSpec('r@main:/a/b/')).toMatchObject({ path: '/a/b', pathIsDir: true });
    expect(parseRefSpec('r@main:/')).toMatchObject({ path: '/', pathIsDir: true });
  });

  it('rejects invalid repo names with E_INVALID_NAME', () => {
    expect(codeOf(() => parseRefSpec('bad name@main'))).toBe('E_INVALID_NAME');
    expect(codeOf(() => parseRefSpec('@main'))).toBe('E_INVALID_NAME');
    expect(codeOf(() => parseRefSpec('x.lock'))).toBe('E_INVALID_NAME');
    expect(codeOf(() => parseRefSpec('-x'))).toBe('E_INVALID_NAME');
  });

  it('rejects malformed refs with E_INVALID_REF', () => {
    expect(codeOf(() => parseRefSpec('r@'))).toBe('E_INVALID_REF');
    expect(codeOf(() => parseRefSpec('r@main~x'))).toBe('E_INVALID_REF');
    expect(codeOf(() => parseRefSpec('r@~1'))).toBe('E_INVALID_REF');
    expect(codeOf(() => parseRefSpec('r@ma in'))).toBe('E_INVALID_REF');
    expect(codeOf(() => parseRefSpec('r@a@b'))).toBe('E_INVALID_REF');
  });

  it('rejects bad paths with E_INVALID_PATH', () => {
    expect(codeOf(() => parseRefSpec('r@main:'))).toBe('E_INVALID_PATH');
    expect(codeOf(() => parseRefSpec('r@main:/a/../b'))).toBe('E_INVALID_PATH');
    expect(codeOf(() => parseRefSpec('r@main:/a//b'))).toBe('E_INVALID_PATH');
    expect(codeOf(() => parseRefSpec('r@main:/a\\b'))).toBe('E_INVALID_PATH');
  });

  it('enforces the path rule: forbidden is E_BAD_REQUEST, missing-but-required is E_INVALID_PATH', () => {
    expect(codeOf(() => parseRefSpec('r@main:/a', 'forbid'))).toBe('E_BAD_REQUEST');
    expect(codeOf(() => parseRefSpec('r@main', 'require'))).toBe('E_INVALID_PATH');
    expect(parseRefSpec('r@main:/a', 'require').path).toBe('/a');
  });
});

describe('parseRef', () => {
  it('returns valid refs unchanged', () => {
    for (const ref of ['main', 'feature.x-1', 'main^', 'main~0', 'deadbeef^~3']) expect(parseRef(ref)).toBe(ref);
  });

  it('throws E_INVALID_REF for anything else', () => {
    for (const ref of ['', '^', 'main~', 'main~-1', 'main^x', '.hidden', 'a..b']) {
      expect(codeOf(() => parseRef(ref)), ref).toBe('E_INVALID_REF');
    }
  });
});

describe('parseBranchSpec', () => {
  it('reads a branch and defaults to main', () => {
    expect(parseBranchSpec('r@dev:/x')).toMatchObject({ repo: 'r', branch: 'dev', path: '/x', explicitRef: true });
    expect(parseBranchSpec('r')).toMatchObject({ branch: 'main', explicitRef: false });
  });

  it('refuses relative refs for writes with E_INVALID_REF', () => {
    expect(codeOf(() => parseBranchSpec('r@main~1:/x'))).toBe('E_INVALID_REF');
    expect(codeOf(() => parseBranchSpec('r@main^'))).toBe('E_INVALID_REF');
  });

  it('refuses invalid branch names with E_INVALID_NAME', () => {
    expect(codeOf(() => parseBranchSpec('r@'))).toBe('E_INVALID_NAME');
    expect(codeOf(() => parseBranchSpec('r@x.lock'))).toBe('E_INVALID_NAME');
  });

  it('requires an explicit branch where defaulting to main would be dangerous', () => {
    expect(codeOf(() => parseExplicitBranchSpec('r'))).toBe('E_BAD_REQUEST');
    expect(parseExplicitBranchSpec('r@dev').branch).toBe('dev');
  });
});
