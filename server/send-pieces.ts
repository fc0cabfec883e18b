/**
 * Sending a body made of reused buffers. Handed a stream, fastify pipes it into the response and
 * nothing says when the socket is done with a piece, so no piece could ever be reused. Here each
 * piece is written with a callback, which Node runs once the socket has written it (or has failed
 * to), and only then is the piece released.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * Send the reply's status and headers, then `pieces`, releasing each piece once written. The first
 * piece is read before anything is sent, so a read that fails at once (a missing or truncated
 * pack) is answered as any error is; a later failure can only cut the response short (its
 * Content-Length then tells the client), as when fastify pipes a stream. What was written before
 * the failure goes out first: destroyed at once, the socket dropped it, headers included, and the
 * client saw a connection reset before any answer instead of a body cut short, which it resumes
 * from where it stopped (cli/transfer/resume.ts) until the failing piece comes first and gets
 * its error (the get-resume test failed so about one run in eight).
 */
export async function sendPieces(reply: FastifyReply, pieces: AsyncIterable<Uint8Array>, release: (piece: Uint8Array) => void): Promise<void> {
  const iterator = pieces[Symbol.asyncIterator]();
  let next = await iterator.next();
  reply.hijack();
  const res = reply.raw;
  try {
    res.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
    while (!next.done) {
      const piece = next.value;
      if (res.destroyed) {
        release(piece);
        break;
      }
      if (!res.write(piece, () => release(piece))) await drained(res);
      next = await iterator.next();
    }
    if (!res.destroyed) res.end();
  } catch (err) {
    reply.log.error({ err }, 'response body failed after its headers were sent');
    await flushed(res);
    res.destroy();
  } finally {
    await iterator.return?.();
  }
}

/** Bounds the wait for a client that stopped reading. */
const FLUSH_BEFORE_CUT_MS = 5_000;

const FLUSH_POLL_MS = 10;

/**
 * Until what the response wrote has left the process (the kernel sends it before the close), or
 * the socket is gone. Polled: a socket says 'drain' only after a write it refused.
 */
async function flushed(res: ServerResponse): Promise<void> {
  const socket = res.socket;
  const deadline = Date.now() + FLUSH_BEFORE_CUT_MS;
  while (socket && !socket.destroyed && socket.writableLength > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, FLUSH_POLL_MS));
  }
}

/** Until the response can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve(); // its 'close' may have been and gone
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
