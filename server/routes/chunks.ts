import type { FastifyInstance } from 'fastify';
import { fail } from '../../src/errors.js';
import { checkChunks } from '../../src/ops/chunk-check.js';
import { missingChunks, readChunkRuns, uploadChunks } from '../../src/ops/chunks.js';
import type { EngineContext } from '../../src/ops/context.js';
import type { ChunkHash } from '../../src/types.js';
import { BufferPool } from '../../src/util/buffer-pool.js';
import { frameStream, type Frame } from '../../src/wire/frames.js';
import { hashList, repoParam, requireMediaType } from '../params.js';
import { sendPieces } from '../send-pieces.js';

/** Per upload request; the client splits larger uploads. */
export const CHUNK_UPLOAD_LIMIT = 256 * 1024 * 1024;
/** Small frames of a read are copied together into pieces of this size. */
const FRAME_PIECE_BYTES = 256 * 1024;
/** 100k hashes as JSON is ~6.7 MB. */
const HASH_LIST_LIMIT = 8 * 1024 * 1024;

export function chunkRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.post('/v1/repos/:repo/chunks/missing', { bodyLimit: HASH_LIST_LIMIT }, async (req) => {
    return { missing: await missingChunks(ctx, repoParam(req.params), hashList(req.body)) };
  });

  // Re-hash the stored copies (a client found one damaged); damaged ones are marked for repair.
  app.post('/v1/repos/:repo/chunks/check', { bodyLimit: HASH_LIST_LIMIT }, async (req) => checkChunks(ctx, repoParam(req.params), hashList(req.body)));

  // The buffers small frames are coalesced into, reused like the chunk reader's (send-pieces.ts).
  const framePieces = new BufferPool(FRAME_PIECE_BYTES, 8);
  app.post('/v1/repos/:repo/chunks/read', { bodyLimit: HASH_LIST_LIMIT }, async (req, reply) => {
    const hashes = hashList(req.body);
    // Every frame names its chunk and clients must check it (docs/http-api.md), so the server does
    // not hash twice what the client hashes anyway.
    const runs = await readChunkRuns(ctx, repoParam(req.params), hashes, { verify: false, recycle: true });
    // A chunk copied into a coalesced piece is released at once; one sent as a piece of its own
    // (and every coalesced piece) once the socket has written it.
    const pieces = frameStream(named(hashes, runs), { pool: framePieces, copied: (bytes) => ctx.reader.release(bytes) });
    void reply.header('Content-Type', 'application/octet-stream');
    await sendPieces(reply, pieces, (piece) => {
      ctx.reader.release(piece);
      framePieces.release(piece);
    });
    return reply;
  });

  app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
    scope.post('/v1/repos/:repo/chunks', async (req) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      const repo = repoParam(req.params);
      requireMediaType(req.headers, 'application/octet-stream');
      if (declared > CHUNK_UPLOAD_LIMIT) {
        req.raw.resume(); // drain rather than reset, so the client reads the 413
        throw fail('E_PAYLOAD_TOO_LARGE', `upload of ${declared} bytes exceeds ${CHUNK_UPLOAD_LIMIT}; send fewer chunks per request`);
      }
      return uploadChunks(ctx, repo, req.body as AsyncIterable<Uint8Array>, CHUNK_UPLOAD_LIMIT);
    });
  });
}

/**
 * Each run's chunks as frames, a run at a time: a step per chunk, here and in each layer below,
 * was ~0.13 s of the server's CPU in a 100k-file get.
 */
async function* named(hashes: readonly ChunkHash[], runs: AsyncIterable<Buffer[]>): AsyncGenerator<Frame[]> {
  let i = 0;
  for await (const run of runs) yield run.map((bytes) => ({ hash: hashes[i++]!, bytes }));
}
