/**
 * When a chunk fails its hash on this side, the download alone cannot tell whether the server's
 * copy is bad or the bytes were damaged on the way. The server is asked to re-hash its copy
 * (chunks/check): a damaged copy is marked there, so putting a file that holds the chunk again
 * stores a fresh copy and repairs every commit naming it; the error then says which it was.
 */
import { DatactlError } from '../../src/errors.js';
import type { DatactlClient } from '../client.js';

export async function explainDamage(client: DatactlClient, repo: string, err: unknown): Promise<unknown> {
  if (!(err instanceof DatactlError) || err.code !== 'E_CORRUPT_OBJECT') return err;
  const chunk = err.details?.chunk;
  // Only a mismatch found here: a server's answer (it has a status) already says what it knows.
  if (typeof chunk !== 'string' || err.details?.status !== undefined) return err;
  let damaged: boolean;
  try {
    damaged = (await client.checkChunks(repo, [chunk])).damaged.includes(chunk);
  } catch {
    return err; // an older server, or none reachable: the integrity error stands as it was
  }
  const verdict = damaged
    ? `the server's copy of chunk ${chunk} is damaged: it is marked so, and putting a file that holds it again (from a good copy; put --no-index if that file was put from here before) repairs every commit that names it`
    : `the server's copy of chunk ${chunk} checks out: the bytes were damaged on the way, so try again`;
  return new DatactlError(err.code, `${err.message}; ${verdict}`, { ...err.details, serverCopyDamaged: damaged });
}
