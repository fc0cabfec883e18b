import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../src/engine.js';
import { toDatactlError } from '../errors.js';

export function healthRoutes(app: FastifyInstance, engine: Pick<Engine, 'check'>): void {
  app.get('/healthz', async (req, reply) => {
    try {
      await engine.check();
      return { ok: true };
    } catch (err) {
      const e = toDatactlError(err);
      req.log.warn({ err }, 'health check failed');
      return reply.status(503).send({ ok: false, error: { code: 'E_STORE_UNAVAILABLE', message: e.message } });
    }
  });
}
