/** The one place errors become HTTP responses: `{"error": {"code", "message", "details"}}`. */
import type { FastifyError, FastifyInstance } from 'fastify';
import { DatactlError, ERROR_CATALOG, isNoSpace } from '../src/errors.js';

export function toDatactlError(err: unknown): DatactlError {
  if (err instanceof DatactlError) return err;
  const e = err as Partial<FastifyError> & { message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new DatactlError('E_PAYLOAD_TOO_LARGE', 'request body is larger than this endpoint accepts');
  // Node's request stream when the client disconnects mid-body: the client's doing, not a server fault.
  if (e.code === 'ECONNRESET' && e.message === 'aborted') return new DatactlError('E_TRUNCATED_UPLOAD', 'the client went away before the request body ended');
  if (e.validation) return new DatactlError('E_BAD_REQUEST', `invalid request: ${e.message ?? 'validation failed'}`);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new DatactlError('E_BAD_REQUEST', e.message ?? 'bad request', { fastifyCode: e.code });
  }
  // A write refused for want of space that no store translated (those say which store it was).
  if (isNoSpace(err)) return new DatactlError('E_STORAGE_FULL', `the server ran out of disk space (${e.message ?? 'ENOSPC'})`);
  return new DatactlError('E_INTERNAL', 'internal server error');
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const e = toDatactlError(err);
    if (e.status >= 500) request.log.error({ err }, `${e.code}: ${(err as Error).message}`);
    else request.log.info({ code: e.code }, e.message);
    if (reply.sent || reply.raw.headersSent) {
      // A streamed body failed midway: the status line is gone, so cut the connection and let the
      // client's length and hash checks notice.
      reply.raw.destroy(err as Error);
      return;
    }
    void reply.status(e.status).send({ error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(ERROR_CATALOG.E_NOT_FOUND.status).send({
      error: { code: 'E_NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` },
    });
  });
}
