/**
 * A one-line progress bar on stderr: bytes done/total, rate, ETA. Redrawn at most every 100 ms,
 * drawn only when enabled (stderr is a TTY and neither --json nor --quiet), cleared at the end.
 * The formatting functions are pure so they can be tested on their own.
 */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Decimal units, one decimal place from kB up: `999 B`, `1.5 kB`, `12.3 MB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // 999.96 kB would print as "1000.0 kB"; move up a unit instead.
  if (value >= 999.95 && unit < UNITS.length - 1) return `1.0 ${UNITS[unit + 1]}`;
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Number.isFinite(bytesPerSecond) && bytesPerSecond > 0 ? bytesPerSecond : 0)}/s`;
}

/** `m:ss` under an hour, `h:mm:ss` above, `--:--` when unknown, `>99h` when absurd. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const total = Math.ceil(seconds);
  if (total >= 100 * 3600) return '>99h';
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** Seconds left at the current rate, formatted; `--:--` while the rate is unknown. */
export function formatEta(remainingBytes: number, bytesPerSecond: number): string {
  if (!(bytesPerSecond > 0)) return '--:--';
  return formatDuration(Math.max(0, remainingBytes) / bytesPerSecond);
}

export interface ProgressState {
  done: number;
  /** Unknown (stdin) when undefined. */
  total: number | undefined;
  elapsedMs: number;
}

const BAR_WIDTH = 24;

function bar(fraction: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

/** The text of one progress line (no terminal control characters). */
export function formatProgress(state: ProgressState, label = ''): string {
  const rate = state.elapsedMs > 0 ? (state.done * 1000) / state.elapsedMs : 0;
  const prefix = label ? `${label} ` : '';
  if (state.total === undefined) return `${prefix}${formatBytes(state.done)}  ${formatRate(rate)}`;
  const fraction = state.total > 0 ? state.done / state.total : 1;
  const percent = `${Math.floor(Math.min(1, fraction) * 100)}%`.padStart(4);
  const eta = formatEta(state.total - state.done, rate);
  return `${prefix}${bar(fraction)} ${percent}  ${formatBytes(state.done)} / ${formatBytes(state.total)}  ${formatRate(rate)}  ETA ${eta}`;
}

export interface ProgressStream {
  write(text: string): unknown;
}

export interface ProgressOptions {
  stream: ProgressStream;
  enabled: boolean;
  label?: string;
  total?: number;
  /** Milliseconds clock, injectable for tests. */
  now?: () => number;
  minIntervalMs?: number;
}

const CLEAR_LINE = '\r\x1b[2K';

export class ProgressBar {
  private readonly start: number;
  private readonly now: () => number;
  private lastDraw = -Infinity;
  private done = 0;
  private total: number | undefined;
  private drawn = false;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.start = this.now();
    this.total = options.total;
  }

  setTotal(total: number | undefined): void {
    this.total = total;
  }

  /** Add bytes done; redraws if enough time passed. */
  advance(bytes: number): void {
    this.done += bytes;
    this.maybeDraw();
  }

  private maybeDraw(): void {
    if (!this.options.enabled) return;
    const now = this.now();
    if (now - this.lastDraw < (this.options.minIntervalMs ?? 100)) return;
    this.lastDraw = now;
    const line = formatProgress({ done: this.done, total: this.total, elapsedMs: now - this.start }, this.options.label);
    this.options.stream.write(`${CLEAR_LINE}${line}`);
    this.drawn = true;
  }

  /** Erase the bar (call once, success or failure). */
  end(): void {
    if (this.drawn) this.options.stream.write(CLEAR_LINE);
    this.drawn = false;
  }
}

/** What the transfer functions accept: told about bytes as they are processed. */
export interface ProgressSink {
  setTotal(total: number | undefined): void;
  advance(bytes: number): void;
}

export const NO_PROGRESS: ProgressSink = { setTotal: () => undefined, advance: () => undefined };
