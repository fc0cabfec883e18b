/**
 * The NDJSON form of a commit request (docs/http-api.md): the header object on the first line, then
 * one change per line. Lines are made from the changes as the request body is read, a few hundred
 * KiB at a time, so neither side ever holds the whole body. Changes may also come in groups (arrays)
 * as they become ready: each group is sent as soon as its lines are made, so the server stages it
 * while the next is not ready yet.
 */
import type { CommitChange, CommitRequest } from './api-types.js';

export const NDJSON_CONTENT_TYPE = 'application/x-ndjson';

/** Body pieces of about this many characters: big enough to keep syscalls few, small enough to stay bounded. */
const PIECE_CHARS = 256 * 1024;

export async function* commitStreamBody(
  header: Omit<CommitRequest, 'changes'>,
  changes: Iterable<CommitChange> | AsyncIterable<CommitChange | readonly CommitChange[]>,
): AsyncGenerator<Uint8Array> {
  // A whole CommitRequest passed by mistake must not put its changes in the header line.
  const { changes: _inline, ...fields } = header as CommitRequest;
  let text = `${JSON.stringify(fields)}\n`;
  for await (const item of changes) {
    if (!Array.isArray(item)) {
      text += `${JSON.stringify(item)}\n`;
      if (text.length < PIECE_CHARS) continue;
    } else {
      for (const change of item as readonly CommitChange[]) {
        text += `${JSON.stringify(change)}\n`;
        if (text.length >= PIECE_CHARS) {
          yield Buffer.from(text);
          text = '';
        }
      }
      if (text.length === 0) continue;
    }
    yield Buffer.from(text); // a full piece, or the end of a group
    text = '';
  }
  if (text.length > 0) yield Buffer.from(text);
}
