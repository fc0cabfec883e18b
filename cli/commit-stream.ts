/**
 * The NDJSON form of a commit request (docs/http-api.md): the header object on the first line, then
 * one change per line. Lines are made from the changes as the request body is read, a few hundred
 * KiB at a time, so neither side ever holds the whole body.
 */
import type { CommitChange, CommitRequest } from './api-types.js';

export const NDJSON_CONTENT_TYPE = 'application/x-ndjson';

/** Body pieces of about this many characters: big enough to keep syscalls few, small enough to stay bounded. */
const PIECE_CHARS = 256 * 1024;

export async function* commitStreamBody(
  header: Omit<CommitRequest, 'changes'>,
  changes: Iterable<CommitChange> | AsyncIterable<CommitChange>,
): AsyncGenerator<Uint8Array> {
  // A whole CommitRequest passed by mistake must not put its changes in the header line.
  const { changes: _inline, ...fields } = header as CommitRequest;
  let text = `${JSON.stringify(fields)}\n`;
  for await (const change of changes) {
    text += `${JSON.stringify(change)}\n`;
    if (text.length >= PIECE_CHARS) {
      yield Buffer.from(text);
      text = '';
    }
  }
  if (text.length > 0) yield Buffer.from(text);
}
