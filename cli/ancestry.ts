/**
 * `GET /v1/repos/:repo/ancestry` for the typed client, kept beside client.ts (one small file, so
 * it can move into DatactlClient later without changing callers' imports of the SDK).
 */
import type { DatactlClient } from './client.js';
import { Transport } from './http.js';

export interface AncestryResult {
  ancestor: string;
  descendant: string;
  /** A commit counts as its own ancestor. */
  isAncestor: boolean;
  /** The server's walk hit its bound before deciding; `isAncestor` is then false ("unknown"). */
  truncated: boolean;
}

/** Is `ancestor` (a ref) an ancestor of, or equal to, `descendant` (a ref) in `repo`? */
export function ancestry(client: DatactlClient, repo: string, ancestor: string, descendant: string): Promise<AncestryResult> {
  return new Transport({ baseUrl: client.baseUrl }).json({
    method: 'GET',
    path: `/v1/repos/${encodeURIComponent(repo)}/ancestry`,
    query: { ancestor, descendant },
    idempotent: true,
  });
}
