import type { FastifyInstance } from 'fastify';
import type { WebhookService } from '../../src/webhooks/service.js';
import {
  createSubscription, deleteSubscription, getDeliveryById, listSubscriptions, redeliver, requireSubscription, subscriptionDeliveries, updateSubscription,
} from '../../src/webhooks/manage.js';
import { parseSubscriptionInput, parseSubscriptionPatch } from '../../src/webhooks/validate.js';
import { pageQuery, repoParam } from '../params.js';
import { deliveryView, subscriptionView } from '../views.js';

type Params = { id: string; deliveryId: string };

/** /v1/repos/:repo/webhooks: subscriptions, their delivery logs, redelivery (docs/http-api.md). */
export function webhookRoutes(app: FastifyInstance, webhooks: WebhookService): void {
  const d = () => webhooks.manage;
  const base = '/v1/repos/:repo/webhooks';

  app.get(base, async (req) => ({ webhooks: (await listSubscriptions(d(), repoParam(req.params))).map(subscriptionView) }));
  app.post(base, async (req, reply) => {
    const input = parseSubscriptionInput(req.body ?? {});
    return reply.status(201).send(subscriptionView(await createSubscription(d(), repoParam(req.params), input)));
  });
  app.get(`${base}/:id`, async (req) => subscriptionView(await requireSubscription(d(), repoParam(req.params), (req.params as Params).id)));
  app.patch(`${base}/:id`, async (req) => {
    const patch = parseSubscriptionPatch(req.body ?? {});
    return subscriptionView(await updateSubscription(d(), repoParam(req.params), (req.params as Params).id, patch));
  });
  app.delete(`${base}/:id`, async (req, reply) => {
    await deleteSubscription(d(), repoParam(req.params), (req.params as Params).id);
    return reply.status(204).send();
  });

  app.get(`${base}/:id/deliveries`, async (req) => {
    const page = await subscriptionDeliveries(d(), repoParam(req.params), (req.params as Params).id, pageQuery(req.query));
    return { deliveries: page.items.map(deliveryView), nextCursor: page.nextCursor };
  });
  app.get(`${base}/:id/deliveries/:deliveryId`, async (req) => {
    const p = req.params as Params;
    return deliveryView(await getDeliveryById(d(), repoParam(req.params), p.id, p.deliveryId));
  });
  app.post(`${base}/:id/deliveries/:deliveryId/redeliver`, async (req, reply) => {
    const p = req.params as Params;
    return reply.status(202).send(deliveryView(await redeliver(d(), repoParam(req.params), p.id, p.deliveryId)));
  });
}
