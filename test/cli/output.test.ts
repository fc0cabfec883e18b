import { describe, expect, it } from 'vitest';
import { formatFields, formatTable, Output } from '../../cli/output.js';

function capture(options: { json?: boolean; quiet?: boolean; tty?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const output = new Output({
    json: options.json,
    quiet: options.quiet,
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => err.push(t), isTTY: options.tty ?? false },
  });
  return { output, out, err };
}

describe('formatTable', () => {
  it('aligns columns under upper-case headers, numbers to the right', () => {
    const rows = [
      { name: 'a.csv', size: '1.0 kB' },
      { name: 'longer-name.bin', size: '12.3 MB' },
    ];
    const text = formatTable(rows, [
      { header: 'NAME', value: (r) => r.name },
      { header: 'SIZE', value: (r) => r.size, align: 'right' },
    ]);
    expect(text.split('\n')).toEqual(['NAME                SIZE', 'a.csv             1.0 kB', 'longer-name.bin  12.3 MB']);
  });

  it('prints just the header for no rows', () => {
    expect(formatTable([], [{ header: 'NAME', value: () => '' }])).toBe('NAME');
  });
});

describe('formatFields', () => {
  it('aligns values after their labels', () => {
    expect(formatFields([['Id', 'x'], ['Author', 'y']])).toBe('Id:     x\nAuthor: y');
  });
});

describe('stored text in human output', () => {
  it('shows control characters instead of sending them to the terminal', () => {
    const message = 'fix \x1b[2J\x1b[31mred\x1b[0m\x07\nsecond line';
    expect(formatFields([['Message', message]])).toBe('Message: fix \\x1b[2J\\x1b[31mred\\x1b[0m\\x07\nsecond line');
    expect(formatTable([{ m: message }], [{ header: 'MESSAGE', value: (r) => r.m }])).toBe('MESSAGE\nfix \\x1b[2J\\x1b[31mred\\x1b[0m\\x07\\x0asecond line');
    expect(formatFields([['Author', 'José 😀\tx']])).toBe('Author: José 😀\tx');
  });
});

describe('Output', () => {
  it('prints exactly one JSON value on stdout with --json', () => {
    const { output, out, err } = capture({ json: true });
    output.result({ a: 1 }, () => 'human');
    expect(JSON.parse(out.join(''))).toEqual({ a: 1 });
    expect(err).toEqual([]);
  });

  it('prints data even with --quiet, but hides action summaries', () => {
    const { output, out } = capture({ quiet: true });
    output.result({}, () => 'the listing');
    output.done({}, () => 'committed abc');
    expect(out).toEqual(['the listing\n']);
  });

  it('sends logs and warnings to stderr, never stdout', () => {
    const { output, out, err } = capture();
    output.log('working');
    output.warn('skipped x');
    expect(out).toEqual([]);
    expect(err).toEqual(['working\n', 'datactl: warning: skipped x\n']);
  });

  it('allows a progress bar only on a terminal without --json or --quiet', () => {
    expect(capture({ tty: true }).output.progressEnabled).toBe(true);
    expect(capture({ tty: false }).output.progressEnabled).toBe(false);
    expect(capture({ tty: true, json: true }).output.progressEnabled).toBe(false);
    expect(capture({ tty: true, quiet: true }).output.progressEnabled).toBe(false);
  });
});
