/**
 * Path globs for contract rules, matched against normalized repo paths (`/train/x.parquet`).
 * Anchored at the repo root (a leading `/` on the glob is optional) and matched segment by segment:
 *   `*`  any run of characters within one segment
 *   `?`  one character within a segment
 *   `**` as a whole segment: zero or more segments
 * Everything else is literal. `/train/*.parquet` matches `/train/a.parquet`, not `/train/x/a.parquet`;
 * `/train/**` matches everything under /train; `**` alone matches every path.
 */

const segmentCache = new Map<string, RegExp>();

function segmentRegex(segment: string): RegExp {
  let re = segmentCache.get(segment);
  if (!re) {
    const body = segment.replace(/\*+/g, '*').split('').map((c) => {
      if (c === '*') return '.*';
      if (c === '?') return '.';
      return c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }).join('');
    re = new RegExp(`^${body}$`, 's');
    if (segmentCache.size < 1000) segmentCache.set(segment, re);
  }
  return re;
}

const splitPath = (p: string) => (p.startsWith('/') ? p.slice(1) : p).split('/');

export function globMatch(glob: string, path: string): boolean {
  const g = splitPath(glob);
  const p = path === '/' ? [] : splitPath(path);
  const memo = new Map<number, boolean>();
  const match = (gi: number, pi: number): boolean => {
    const key = gi * (p.length + 1) + pi;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    if (gi === g.length) result = pi === p.length;
    else if (g[gi] === '**') result = match(gi + 1, pi) || (pi < p.length && match(gi, pi + 1));
    else result = pi < p.length && segmentRegex(g[gi]!).test(p[pi]!) && match(gi + 1, pi + 1);
    memo.set(key, result);
    return result;
  };
  return match(0, 0);
}
