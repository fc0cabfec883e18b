/**
 * Output discipline: stdout carries data (or exactly one JSON value with --json), stderr carries
 * logs, warnings and progress. Commands receive an Output and never touch process.std* directly.
 */
import { formatBytes } from './progress.js';

export interface Writable {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface OutputOptions {
  json?: boolean;
  quiet?: boolean;
  stdout?: Writable;
  stderr?: Writable;
}

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly stdout: Writable;
  readonly stderr: Writable;

  constructor(options: OutputOptions = {}) {
    this.json = options.json ?? false;
    this.quiet = options.quiet ?? false;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
  }

  /** A log line on stderr (suppressed by --quiet). */
  log(message: string): void {
    if (!this.quiet) this.stderr.write(`${message}\n`);
  }

  /** A warning on stderr; shown even with --quiet. */
  warn(message: string): void {
    this.stderr.write(`datactl: warning: ${message}\n`);
  }

  /** Data the command was asked for (listings, inspections): JSON with --json, else the human form. */
  result(value: unknown, human: () => string): void {
    if (this.json) return this.writeJson(value);
    this.writeText(human());
  }

  /** The outcome of an action (created, committed, wrote): JSON with --json; --quiet hides the text. */
  done(value: unknown, human: () => string): void {
    if (this.json) return this.writeJson(value);
    if (!this.quiet) this.writeText(human());
  }

  private writeJson(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  private writeText(text: string): void {
    if (text) this.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Whether a progress bar may be drawn. */
  get progressEnabled(): boolean {
    return this.stderr.isTTY === true && !this.json && !this.quiet;
  }
}

export type Align = 'left' | 'right';

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: Align;
}

/** Render rows as an aligned table: upper-case headers, two spaces between columns. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => printable(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i]!.align === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** Said under a listing --limit cut short, so it does not pass for the whole. */
export function moreNote(truncated: boolean | undefined, what: string): string {
  return truncated ? `\n(more ${what} than --limit shows)` : '';
}

/** Render `key: value` pairs with aligned values (for inspect commands). */
export function formatFields(fields: ReadonlyArray<[string, string]>): string {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width)} ${printable(v, true)}`).join('\n');
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_NEWLINE = /[\x00-\x1f\x7f-\x9f]/g;

/**
 * Stored text (commit messages, authors, webhook errors) shown, not obeyed: an escape sequence in
 * a commit message must not recolour, move or clear the terminal of whoever inspects it. Control
 * characters become `\xNN`; tabs stay, and newlines too where the layout allows them.
 */
export function printable(text: string, keepNewlines = false): string {
  return text.replace(keepNewlines ? CONTROL : CONTROL_OR_NEWLINE, (c) => (c === '\t' ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

export const shortId = (id: string | null | undefined, n = 12): string => (id ? id.slice(0, n) : '-');

/** A size column value: human bytes. */
export const sizeCell = (bytes: number | undefined): string => (bytes === undefined ? '-' : formatBytes(bytes));

/** Local time without seconds' fraction, for tables: `2026-11-22 10:00:00`. */
export function timeCell(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
