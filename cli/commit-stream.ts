/**
 * The NDJSON form of a commit request (docs/http-api.md): the header object on the first line, then
 * one change per line. Lines are made from the changes as the request body is read, a few hundred
 * KiB at a time, so neither side ever holds the whole body. Changes may also come in groups (arrays)
 * as they become ready: each group is sent as soon as its lines are made, so the server stages it
 * while the next is not ready yet. A group may also come already encoded (PutLines): its bytes go
 * out as they are.
 */
import type { ChunkRef, CommitChange, CommitRequest } from './api-types.js';

export const NDJSON_CONTENT_TYPE = 'application/x-ndjson';

/** Body pieces of about this many characters: big enough to keep syscalls few, small enough to stay bounded. */
const PIECE_CHARS = 256 * 1024;

export async function* commitStreamBody(
  header: Omit<CommitRequest, 'changes'>,
  changes: Iterable<CommitChange> | AsyncIterable<CommitChange | readonly CommitChange[] | Uint8Array>,
): AsyncGenerator<Uint8Array> {
  // A whole CommitRequest passed by mistake must not put its changes in the header line.
  const { changes: _inline, ...fields } = header as CommitRequest;
  let text = `${JSON.stringify(fields)}\n`;
  for await (const item of changes) {
    if (item instanceof Uint8Array) {
      if (text.length > 0) yield Buffer.from(text);
      text = '';
      yield item;
      continue;
    }
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

/**
 * What JSON.stringify would escape, and any surrogate: a lone one it escapes, and UTF-8 cannot
 * carry it as is (a pair it would not, but such paths are rare enough to take the slow way).
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * Put changes as NDJSON lines, byte for byte what JSON.stringify makes of `{op: 'put', path,
 * manifest: {size, hash, chunker, chunks}}`, built into a string without the objects, and taken
 * as UTF-8 every PIECE_CHARS or so (`full`). For 100k small files those objects and their JSON
 * were ~30% of what a put allocated on its main thread. Hashes must be validated hex and sizes
 * integers (they are written as they are).
 */
export class PutLines {
  private text = '';
  private readonly chunkerJson: string;

  /** Every change of a put names the same chunker. */
  constructor(chunker: string) {
    this.chunkerJson = JSON.stringify(chunker);
  }

  /** Enough lines for one piece of the body: take them. */
  get full(): boolean {
    return this.text.length >= PIECE_CHARS;
  }

  get empty(): boolean {
    return this.text.length === 0;
  }

  /** One change; `chunks` undefined: the file is one chunk, its own hash (or none, when empty). */
  put(path: string, size: number, hash: string, chunks?: readonly ChunkRef[]): void {
    let refs: string;
    if (chunks) {
      refs = '';
      for (let k = 0; k < chunks.length; k++) refs += `${k > 0 ? ',' : ''}["${chunks[k]![0]}",${chunks[k]![1]}]`;
    } else {
      refs = size > 0 ? `["${hash}",${size}]` : '';
    }
    const pathJson = NEEDS_ESCAPE.test(path) ? JSON.stringify(path) : `"${path}"`;
    this.text += `{"op":"put","path":${pathJson},"manifest":{"size":${size},"hash":"${hash}","chunker":${this.chunkerJson},"chunks":[${refs}]}}\n`;
  }

  /** The lines made since the last take, as UTF-8. */
  take(): Buffer {
    const out = Buffer.from(this.text);
    this.text = '';
    return out;
  }
}
