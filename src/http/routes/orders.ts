/**
 * Admin API for reward orders: list with filters, fulfil (ship / deliver / approve a payout),
 * cancel or reject with a reason, and the shipping list as CSV. A repeated fulfil or cancel answers
 * 200 with `changed: false`: the points move once however often it is retried.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteModule } from '../server.js';
import { requireRole } from '../plugins/admin-auth.js';
import { AppError } from '../../shared/errors.js';
import type { Sql } from '../../db/sql.js';
import type { ChangeResult, RewardsService } from '../../services/rewards/index.js';
import { OrderFilterSchema } from '../../domain/rewards/schema.js';
import { actorOf } from './rewards.js';
import { csvFormatOf, csvFormatQuery } from '../csv-format.js';

const idParams = z.object({ id: z.uuid() });
const reasonBody = z.object({ reason: z.string().trim().min(1).max(500) });

function answer(r: ChangeResult, what: string) {
  switch (r.status) {
    case 'changed':
      return { changed: true, order: r.order };
    case 'unchanged':
      return { changed: false, order: r.order };
    case 'not_allowed':
      throw new AppError('conflict', `The order is ${r.order.status} (${r.order.type}); it cannot be ${what}`, {
        details: { status: r.order.status, type: r.order.type },
      });
    case 'not_found':
      throw new AppError('not_found', 'Order not found');
  }
}

export function orderRoutes(deps: { sql: Sql; rewards: RewardsService }): RouteModule {
  return async (app: FastifyInstance) => {
    const api = app.withTypeProvider<ZodTypeProvider>();

    api.get(
      '/orders',
      {
        // delivery addresses and phone numbers: managers only
        preHandler: requireRole('manager'),
        schema: { summary: 'Reward orders, newest first, with filters (with delivery details)', tags: ['orders'], querystring: OrderFilterSchema },
      },
      async (request) => deps.rewards.listOrders(deps.sql, request.query),
    );

    api.get(
      '/orders/shipping.csv',
      {
        preHandler: requireRole('manager'),
        schema: {
          summary: 'Shipping details of physical orders as CSV (default: waiting to ship)',
          tags: ['orders'],
          description: 'Add `?format=excel` (or `Accept: application/vnd.ms-excel`) for the form Excel opens as it is: UTF-8 BOM, semicolons for pl/pt/be readers (`?locale=` or Accept-Language).',
          querystring: OrderFilterSchema.pick({ status: true, rewardId: true, from: true, to: true }).extend(csvFormatQuery.shape),
        },
      },
      async (request, reply) => {
        const { format: _format, locale: _locale, ...filter } = request.query;
        return reply
          .type('text/csv; charset=utf-8')
          .header('cache-control', 'no-store')
          .header('content-disposition', 'attachment; filename="shipping.csv"')
          .send(await deps.rewards.shippingCsv(deps.sql, filter, csvFormatOf(request)));
      },
    );

    api.get(
      '/orders/:id',
      { preHandler: requireRole('manager'), schema: { summary: 'One order', tags: ['orders'], params: idParams } },
      async (request) => {
        const order = await deps.rewards.getOrder(deps.sql, request.params.id);
        if (!order) throw new AppError('not_found', 'Order not found');
        return order;
      },
    );

    api.post(
      '/orders/:id/fulfil',
      {
        preHandler: requireRole('manager'),
        schema: {
          summary: 'Move an order on: physical ordered → shipped → delivered; cash-out ordered → delivered (paid)',
          description: 'Without `status` the order moves to its next step. Points held for it are posted once.',
          tags: ['orders'],
          params: idParams,
          body: z.object({ status: z.enum(['shipped', 'delivered']).optional(), tracking: z.string().trim().min(1).max(100).optional() }).optional(),
        },
      },
      async (request) => {
        const body = request.body ?? {};
        const r = await deps.rewards.fulfil(
          deps.sql,
          request.params.id,
          { ...(body.status ? { to: body.status } : {}), ...(body.tracking ? { tracking: body.tracking } : {}) },
          actorOf(request),
        );
        return answer(r, `moved to ${body.status ?? 'its next step'}`);
      },
    );

    api.post(
      '/orders/:id/cancel',
      {
        preHandler: requireRole('manager'),
        schema: {
          summary: 'Cancel an order (points come back, stock returns) while it has not been fulfilled',
          tags: ['orders'],
          params: idParams,
          body: reasonBody,
        },
      },
      async (request) => answer(await deps.rewards.cancel(deps.sql, request.params.id, request.body.reason, actorOf(request)), 'cancelled'),
    );

    // Cash-out wording for the same two moves: approve = pay out (points posted), reject = points back.
    api.post(
      '/orders/:id/approve',
      { preHandler: requireRole('manager'), schema: { summary: 'Approve a cash-out payout', tags: ['orders'], params: idParams } },
      async (request) => {
        const order = await deps.rewards.getOrder(deps.sql, request.params.id);
        if (!order) throw new AppError('not_found', 'Order not found');
        if (order.type !== 'cash_out') throw new AppError('conflict', 'Only cash-out orders are approved; use /fulfil');
        return answer(await deps.rewards.fulfil(deps.sql, order.id, { to: 'delivered' }, actorOf(request)), 'approved');
      },
    );

    api.post(
      '/orders/:id/reject',
      {
        preHandler: requireRole('manager'),
        schema: { summary: 'Reject a cash-out payout (points come back)', tags: ['orders'], params: idParams, body: reasonBody },
      },
      async (request) => {
        const order = await deps.rewards.getOrder(deps.sql, request.params.id);
        if (!order) throw new AppError('not_found', 'Order not found');
        if (order.type !== 'cash_out') throw new AppError('conflict', 'Only cash-out orders are rejected; use /cancel');
        return answer(await deps.rewards.cancel(deps.sql, order.id, request.body.reason, actorOf(request)), 'rejected');
      },
    );
  };
}
