/**
 * Newline-delimited JSON bodies at the edge: lines split from a byte stream as it arrives, each
 * with its 1-based number for error messages. Only the current line and the lines of one
 * received piece are held, so memory is bounded by the longest line allowed and the piece size,
 * not by the body.
 */
import type { IncomingMessage } from 'node:http';
import { fail } from '../src/errors.js';

export interface NumberedLine {
  line: number;
  text: string;
}

export interface LineLimits {
  /** One line, without its newline. */
  maxLineBytes: number;
  /** The whole body. */
  maxBodyBytes: number;
}

const NEWLINE = 0x0a;

/**
 * The non-blank lines of `body`, in order; blank lines are skipped but counted. A last line
 * without a newline counts. Splitting bytes at 0x0a is safe in UTF-8 (it never occurs inside a
 * multi-byte character), and each line is decoded once, when complete. Lines come in batches,
 * all that one received piece completes (never an empty batch): one async step per line, in each
 * layer that passes lines on, was a promise and an iterator result per line of a 100k-line body.
 */
export async function* ndjsonLines(body: AsyncIterable<Uint8Array>, limits: LineLimits): AsyncGenerator<NumberedLine[]> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 0;
  let total = 0;
  for await (const piece of receive(body)) {
    const buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    total += buf.length;
    if (total > limits.maxBodyBytes) throw fail('E_PAYLOAD_TOO_LARGE', `body is larger than ${limits.maxBodyBytes} bytes`);
    let start = 0;
    const batch: NumberedLine[] = [];
    for (let nl = buf.indexOf(NEWLINE); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
      line++;
      checkLength(line, pendingBytes + nl - start, limits);
      const text = pendingBytes === 0 ? buf.toString('utf8', start, nl) : joined(pending, buf.subarray(start, nl));
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
      if (!isBlank(text)) batch.push({ line, text });
    }
    if (batch.length > 0) yield batch;
    if (start < buf.length) {
      pendingBytes += buf.length - start;
      checkLength(line + 1, pendingBytes, limits);
      // A copy of the tail: a view would keep the whole received piece alive.
      pending.push(Buffer.from(buf.subarray(start)));
    }
  }
  if (pendingBytes > 0) {
    const text = joined(pending);
    if (!isBlank(text)) yield [{ line: line + 1, text }];
  }
}

/** The body's pieces; a connection lost mid-body is the client's truncated upload, not a server error. */
async function* receive(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield* body;
  } catch (err) {
    throw fail('E_TRUNCATED_UPLOAD', `the body was cut off before its end (${(err as Error).message})`);
  }
}

function joined(parts: Buffer[], last?: Buffer): string {
  return Buffer.concat(last ? [...parts, last] : parts).toString('utf8');
}

function checkLength(line: number, bytes: number, limits: LineLimits): void {
  if (bytes > limits.maxLineBytes) throw fail('E_PAYLOAD_TOO_LARGE', `line ${line} is longer than ${limits.maxLineBytes} bytes`, { line });
}

function isBlank(text: string): boolean {
  return text.length === 0 || (text.charCodeAt(0) <= 0x20 && text.trim() === '');
}

/**
 * After a request failed mid-body: read and discard the rest, so a client still sending gets to
 * read the error response, but cut the connection past `maxBytes` rather than read on forever.
 */
export function discardRest(req: IncomingMessage, maxBytes: number): void {
  if (req.complete) return;
  let discarded = 0;
  req.on('data', (piece: Buffer) => {
    discarded += piece.length;
    if (discarded > maxBytes) req.socket.destroy();
  });
  req.resume();
}
