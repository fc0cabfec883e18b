/**
 * Git and webhook URLs may carry credentials (`https://user:token@host/...`). They are stored as
 * given (the target needs them) but never shown: API output, logs and delivery errors pass
 * through here.
 */
const USERINFO_RE = /\/\/[^/\s@'"`<>]+@/g;

/** `https://user:pass@host/x` -> `https://***@host/x`; text without credentials is unchanged. */
export function redactCredentials(text: string): string {
  return text.replace(USERINFO_RE, '//***@');
}
