/** Durations in configuration: a number with a unit (`500ms`, `30s`, `15m`, `24h`, `7d`). */
import { fail } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!m) throw fail('E_BAD_REQUEST', `invalid ${what} ${JSON.stringify(value)}: expected a number with a unit, like 500ms, 30s, 15m, 24h or 7d`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]!]!);
}
