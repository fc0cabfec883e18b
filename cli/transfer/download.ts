/**
 * Single-file download: stream the bytes into a sink while ContentVerifier checks them against
 * the manifest; the sink is committed only when everything matched, aborted otherwise. A sink that
 * cannot take bytes back (stdout) is handed each chunk only once it has matched its hash.
 *
 * A connection lost mid-body is resumed where it stopped (`Range: bytes=N-` on the same commit,
 * whose bytes never change; resume.ts), so a network blip costs a request, not the gigabytes
 * already read. The server reads the first piece of an answer before its headers, so a resumed
 * request that starts at a pack the server cannot read gets that error (a missing pack:
 * E_OBJECT_NOT_FOUND) instead of another cut-off body, which was all the client saw of it before.
 */
import { fail } from '../../src/errors.js';
import type { FileEntry } from '../api-types.js';
import type { DatactlClient } from '../client.js';
import { isCutMidBody, readBody } from '../http.js';
import { NO_PROGRESS, type ProgressSink } from '../progress.js';
import { Resumes } from './resume.js';
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
    let received = 0;
    for (const resumes = new Resumes(); ; ) {
      const resumeAt = received;
      try {
        const download = await client.readFile(repo, commit, entry.path, { verifiedByCaller: true, ...(resumeAt > 0 ? { range: { start: resumeAt } } : {}) });
        if (resumeAt > 0 && download.status !== 206) {
          await download.body.cancel().catch(() => undefined); // an unread answer would keep the CLI from exiting
          throw fail('E_INTERNAL', `server answered HTTP ${download.status} to a resumed read of ${entry.path} from byte ${resumeAt}, not 206`, { path: entry.path });
        }
        for await (const part of readBody(download.body, client.baseUrl)) {
          verifier.update(part);
          if (!sink.irreversible) await sink.write(part);
          else for (const bytes of verifiedChunks.splice(0)) await sink.write(bytes);
          progress.advance(part.byteLength);
          received += part.byteLength;
        }
        break;
      } catch (err) {
        // Cut after the last byte: there is nothing to ask for (the verifier has had every byte).
        if (received === entry.size && isCutMidBody(err)) break;
        await resumes.after(err, received > resumeAt);
      }
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
