import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatEta, formatProgress, formatRate, ProgressBar } from '../../cli/progress.js';

describe('progress formatting', () => {
  it('formats sizes in decimal units with one decimal from kB up', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1000)).toBe('1.0 kB');
    expect(formatBytes(1536)).toBe('1.5 kB');
    expect(formatBytes(12_300_000)).toBe('12.3 MB');
    expect(formatBytes(999_960)).toBe('1.0 MB');
    expect(formatBytes(2_000_000_000)).toBe('2.0 GB');
    expect(formatBytes(-1)).toBe('?');
  });

  it('formats rates per second, zero when unknown', () => {
    expect(formatRate(85_300_000)).toBe('85.3 MB/s');
    expect(formatRate(0)).toBe('0 B/s');
    expect(formatRate(Number.NaN)).toBe('0 B/s');
  });

  it('formats durations as m:ss or h:mm:ss, rounding up', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(4.2)).toBe('0:05');
    expect(formatDuration(125)).toBe('2:05');
    expect(formatDuration(3600 + 62)).toBe('1:01:02');
    expect(formatDuration(100 * 3600)).toBe('>99h');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('--:--');
  });

  it('computes the ETA from the remaining bytes and the rate', () => {
    expect(formatEta(100_000_000, 10_000_000)).toBe('0:10');
    expect(formatEta(0, 10_000_000)).toBe('0:00');
    expect(formatEta(100, 0)).toBe('--:--');
  });

  it('renders a bar, percentage, sizes, rate and ETA for a known total', () => {
    const line = formatProgress({ done: 50_000_000, total: 100_000_000, elapsedMs: 5000 }, 'put');
    expect(line).toBe('put [############------------]  50%  50.0 MB / 100.0 MB  10.0 MB/s  ETA 0:05');
  });

  it('renders only bytes and rate when the total is unknown (stdin)', () => {
    expect(formatProgress({ done: 3_000_000, total: undefined, elapsedMs: 1000 })).toBe('3.0 MB  3.0 MB/s');
  });

  it('shows 100% for an empty total', () => {
    expect(formatProgress({ done: 0, total: 0, elapsedMs: 0 })).toContain('100%');
  });
});

describe('ProgressBar', () => {
  function harness(enabled: boolean) {
    let now = 0;
    const writes: string[] = [];
    const bar = new ProgressBar({ stream: { write: (t: string) => writes.push(t) }, enabled, total: 1000, now: () => now });
    return { bar, writes, tick: (ms: number) => (now += ms) };
  }

  it('redraws at most every 100 ms', () => {
    const { bar, writes, tick } = harness(true);
    bar.advance(10);
    tick(50);
    bar.advance(10);
    tick(60);
    bar.advance(10);
    expect(writes).toHaveLength(2);
  });

  it('clears its line at the end, once', () => {
    const { bar, writes } = harness(true);
    bar.advance(10);
    bar.end();
    bar.end();
    expect(writes.at(-1)).toBe('\r\x1b[2K');
    expect(writes).toHaveLength(2);
  });

  it('writes nothing when disabled (no TTY, --json or --quiet)', () => {
    const { bar, writes } = harness(false);
    bar.advance(500);
    bar.end();
    expect(writes).toEqual([]);
  });
});
