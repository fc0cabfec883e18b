/** Defaults shared by the CLI and the SDK, in a module with no heavy imports (CLI startup stays cheap). */
import { userInfo } from 'node:os';

export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8080';

/** Commit author when none is given: $DATACTL_AUTHOR, else the OS user name. */
export function defaultAuthor(env: NodeJS.ProcessEnv = process.env): string {
  // Blank counts as unset: the server refuses a blank author, after a put's uploads.
  if (env['DATACTL_AUTHOR']?.trim()) return env['DATACTL_AUTHOR'];
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
