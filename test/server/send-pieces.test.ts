import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendPieces } from '../../server/send-pieces.js';
import { blake3Hex } from '../../src/hash/blake3.js';
import { seededBytes } from '../helpers/seeded-bytes.js';
import { slowGet } from '../helpers/slow-get.js';

// The contract of sendPieces: a piece is released only once the socket is done with it. Here a
// release scribbles over the piece at once, as a reused buffer would be overwritten by the next
// read: a piece released early reaches the client scribbled.
const PIECES = 48;
const pieces = Array.from({ length: PIECES }, (_, i) => seededBytes(100 + i, 1024 * 1024 + i));
const whole = blake3Hex(Buffer.concat(pieces));
let released = 0;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  app = Fastify();
  app.get('/pieces', async (req, reply) => {
    const failAfter = Number((req.query as { failAfter?: string }).failAfter ?? -1);
    async function* body() {
      for (let i = 0; i < PIECES; i++) {
        if (i === failAfter) throw new Error('the store went away');
        yield Buffer.from(pieces[i]!); // a copy: releasing scribbles over it
      }
    }
    void reply.header('Content-Length', pieces.reduce((n, p) => n + p.length, 0));
    await sendPieces(reply, body(), (piece) => {
      released++;
      piece.fill(0xee);
    });
    return reply;
  });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(() => app.close());

describe('sendPieces', () => {
  it('releases each piece only once the socket has written it', async () => {
    released = 0;
    const res = await slowGet(`${url}/pieces`);
    expect(res.status).toBe(200);
    expect(blake3Hex(res.body)).toBe(whole);
    expect(released).toBe(PIECES);
  });

  it('answers a read that fails before the first piece as an error, with nothing sent', async () => {
    const res = await slowGet(`${url}/pieces?failAfter=0`);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body.toString()).message).toBe('the store went away');
  });

  it('cuts the response short when a later read fails, and still releases what it wrote', async () => {
    released = 0;
    const res = await slowGet(`${url}/pieces?failAfter=5`);
    expect(res.status).toBe(200);
    expect(res.complete).toBe(false);
    expect(res.body.length).toBeLessThan(6 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 50));
    expect(released).toBe(5);
  });
});
