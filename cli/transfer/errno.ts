/** Local file errors in words, with the code for searching: `cannot read "x": permission denied (EACCES)`. */
import { getSystemErrorMap } from 'node:util';

/** libuv's description of every errno name (the words Node puts in its own system error messages). */
let words: Map<string, string> | undefined;

export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  words ??= new Map([...getSystemErrorMap().values()]);
  const said = code === undefined ? undefined : words.get(code);
  if (said !== undefined) return `${said} (${code})`;
  return code ?? e?.message ?? String(err);
}
