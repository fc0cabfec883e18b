import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { fail } from '../../src/errors.js';
import { listDirectory, statPath } from '../../src/ops/browse.js';
import type { EngineContext } from '../../src/ops/context.js';
import { deletePath } from '../../src/ops/delete-path.js';
import { openFile, type ByteRange } from '../../src/ops/read-file.js';
import { uploadFile } from '../../src/ops/upload-file.js';
import { authorField, branchParam, flagQuery, optionalString, pageQuery, pathQuery, refParam, repoParam } from '../params.js';
import { sendPieces } from '../send-pieces.js';
import { commitView } from '../views.js';

export function fileRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.get('/v1/repos/:repo/commits/:ref/tree', async (req) => {
    const { commit, page } = await listDirectory(ctx, repoParam(req.params), refParam(req.params), pathQuery(req.query, '/'), {
      ...pageQuery(req.query),
      manifests: flagQuery(req.query, 'manifests'),
    });
    return { commit: commit.id, path: pathQuery(req.query, '/'), entries: page.items, nextCursor: page.nextCursor };
  });

  app.get('/v1/repos/:repo/commits/:ref/stat', async (req) => {
    const { commit, entry } = await statPath(ctx, repoParam(req.params), refParam(req.params), pathQuery(req.query, '/'));
    return { commit: commit.id, entry };
  });

  app.get('/v1/repos/:repo/commits/:ref/file', async (req, reply) => {
    const repo = repoParam(req.params);
    const path = pathQuery(req.query);
    const range = parseRange(req.headers.range);
    const file = await openFile(ctx, repo, refParam(req.params), path);
    const etag = `"${file.manifest.hash}"`;
    void reply
      .header('ETag', etag)
      .header('Accept-Ranges', 'bytes')
      .header('X-Datactl-Commit', file.commit.id)
      .header('X-Datactl-Content-Hash', file.manifest.hash)
      .header('Content-Type', 'application/octet-stream');
    if (req.headers['if-none-match'] === etag) return reply.status(304).send();
    const size = file.manifest.size;
    const wanted = range && resolveRange(range, size);
    if (wanted) {
      void reply
        .status(206)
        .header('Content-Range', `bytes ${wanted.start}-${wanted.end}/${size}`)
        .header('Content-Length', wanted.end - wanted.start + 1);
    } else {
      void reply.header('Content-Length', size);
    }
    // Read into reused buffers, each given back once the socket has written it (send-pieces.ts).
    // HEAD reads nothing (fastify's own HEAD route would read the whole file and drop it).
    // verify=0: the client checks every chunk itself (datactl get does), so the server need not.
    const verify = flagQuery(req.query, 'verify', true);
    const pieces = req.method === 'HEAD' ? (async function* () {})() : file.read(wanted, { recycle: true, verify });
    await sendPieces(reply, pieces, (piece) => ctx.reader.release(piece));
    return reply;
  });

  // Server-side chunking for plain HTTP clients: any content type, streamed, never buffered whole.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    scope.put('/v1/repos/:repo/branches/:branch/file', async (req, reply) => {
      const repo = repoParam(req.params);
      const q = req.query as Record<string, unknown>;
      const path = pathQuery(q);
      const body = (req.body ?? Readable.from([])) as AsyncIterable<Uint8Array>;
      const result = await uploadFile(ctx, {
        repo,
        branch: branchParam(req.params),
        path,
        body,
        message: optionalString(q, 'message') ?? `put ${path}`,
        author: authorField(q),
      });
      const { chunks: _chunks, ...file } = result.manifest;
      return reply.status(result.created ? 201 : 200).send({ created: result.created, commit: result.commit && commitView(repo, result.commit), file });
    });
  });

  app.delete('/v1/repos/:repo/branches/:branch/file', async (req, reply) => {
    const repo = repoParam(req.params);
    const q = req.query as Record<string, unknown>;
    const path = pathQuery(q);
    const result = await deletePath(ctx, repo, branchParam(req.params), path, optionalString(q, 'message') ?? `delete ${path}`, authorField(q));
    return reply.status(result.created ? 201 : 200).send({ created: result.created, commit: result.commit && commitView(repo, result.commit) });
  });
}

type RangeSpec = { start?: number; end?: number; suffix?: number };

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; several ranges are served as the whole file. */
function parseRange(header: string | undefined): RangeSpec | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) {
    if (header.includes(',')) return undefined;
    throw fail('E_RANGE_NOT_SATISFIABLE', `unsupported Range header ${JSON.stringify(header)}`);
  }
  if (m[1] === '') return { suffix: Number(m[2]) };
  return { start: Number(m[1]), end: m[2] === '' ? undefined : Number(m[2]) };
}

function resolveRange(spec: RangeSpec, size: number): ByteRange {
  const unsatisfiable = () => fail('E_RANGE_NOT_SATISFIABLE', `range is outside the file (${size} bytes)`, { size });
  if (spec.suffix !== undefined) {
    if (spec.suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - spec.suffix), end: size - 1 };
  }
  const start = spec.start!;
  const end = Math.min(spec.end ?? size - 1, size - 1);
  if (start >= size || start > end) throw unsatisfiable();
  return { start, end };
}
