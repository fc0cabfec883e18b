/**
 * Single-file download: stream the bytes into a sink while ContentVerifier checks them against
 * the manifest; the sink is committed only when everything matched, aborted otherwise. A sink that
 * cannot take bytes back (stdout) is handed each chunk only once it has matched its hash.
 */
import { fail } from '../../src/errors.js';
import type { FileEntry } from '../api-types.js';
import type { DatactlClient } from '../client.js';
import { readBody } from '../http.js';
import { NO_PROGRESS, type ProgressSink } from '../progress.js';
import type { Sink } from './sinks.js';
import { ContentVerifier } from './verify.js';

/** Stream one file into `sink`, verifying every chunk and the whole; aborts the sink on failure. */
export async function downloadFile(
  client: DatactlClient,
  repo: string,
  commit: string,
  entry: FileEntry,
  sink: Sink,
  progress: ProgressSink = NO_PROGRESS,
): Promise<void> {
  try {
    const expected = { path: entry.path, size: entry.size, hash: entry.hash, chunks: manifestChunks(entry) };
    // A file is renamed into place only once everything matched; stdout gets only verified chunks.
    const verifiedChunks: Buffer[] = [];
    const verifier = sink.irreversible ? new ContentVerifier(expected, (bytes) => verifiedChunks.push(...bytes)) : new ContentVerifier(expected);
    const download = await client.readFile(repo, commit, entry.path, { verifiedByCaller: true });
    for await (const part of readBody(download.body, client.baseUrl)) {
      verifier.update(part);
      if (!sink.irreversible) await sink.write(part);
      else for (const bytes of verifiedChunks.splice(0)) await sink.write(bytes);
      progress.advance(part.byteLength);
    }
    verifier.finish();
    await sink.commit();
  } catch (err) {
    await sink.abort();
    throw err;
  }
}

export function manifestChunks(entry: FileEntry): NonNullable<FileEntry['chunks']> {
  if (!entry.chunks) throw fail('E_INTERNAL', `server sent no chunk list for ${entry.path}`, { path: entry.path });
  return entry.chunks;
}
