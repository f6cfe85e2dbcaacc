/**
 * Admin API for the rewards catalogue: create, list, change (incl. stock), the e-voucher pool CSV
 * import and stock levels. Manager role and up to change, viewer to read; changes are audit-logged
 * by the service.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteModule } from '../server.js';
import { requireRole } from '../plugins/admin-auth.js';
import { AppError } from '../../shared/errors.js';
import type { Sql } from '../../db/sql.js';
import type { RewardsService } from '../../services/rewards/index.js';
import { RewardCreateSchema, RewardPatchSchema } from '../../domain/rewards/schema.js';

const idParams = z.object({ id: z.uuid() });
export const actorOf = (request: { admin?: { name: string } }): string => `admin:${request.admin?.name ?? 'unknown'}`;

export function rewardRoutes(deps: { sql: Sql; rewards: RewardsService }): RouteModule {
  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      scope.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
      const api = scope.withTypeProvider<ZodTypeProvider>();

      api.post(
        '/rewards',
        {
          preHandler: requireRole('manager'),
          schema: {
            summary: 'Create a reward: physical item, e-voucher (codes imported separately) or cash-out',
            tags: ['rewards'],
            body: RewardCreateSchema,
          },
        },
        async (request, reply) => reply.code(201).send(await deps.rewards.create(deps.sql, request.body, actorOf(request))),
      );

      api.get(
        '/rewards',
        {
          preHandler: requireRole('viewer'),
          schema: {
            summary: 'The catalogue with stock (e-voucher stock = free codes in the pool)',
            tags: ['rewards'],
            querystring: z.object({
              status: z.enum(['active', 'hidden', 'archived']).optional(),
              type: z.enum(['physical', 'e_voucher', 'cash_out']).optional(),
            }),
          },
        },
        async (request) => ({ items: await deps.rewards.list(deps.sql, request.query) }),
      );

      api.get(
        '/rewards/:id',
        { preHandler: requireRole('viewer'), schema: { summary: 'One reward', tags: ['rewards'], params: idParams } },
        async (request) => {
          const reward = await deps.rewards.get(deps.sql, request.params.id);
          if (!reward) throw new AppError('not_found', `Reward ${request.params.id} not found`);
          return reward;
        },
      );

      api.patch(
        '/rewards/:id',
        {
          preHandler: requireRole('manager'),
          schema: {
            summary: 'Change a reward; `stockDelta` adds or removes items safely while orders come in',
            tags: ['rewards'],
            params: idParams,
            body: RewardPatchSchema,
          },
        },
        async (request) => deps.rewards.patch(deps.sql, request.params.id, request.body, actorOf(request)),
      );

      api.get(
        '/rewards/:id/stock',
        {
          preHandler: requireRole('viewer'),
          schema: { summary: 'Stock level, voucher pool (free/assigned) and orders by status', tags: ['rewards'], params: idParams },
        },
        async (request) => deps.rewards.stockLevels(deps.sql, request.params.id),
      );

      api.post(
        '/rewards/:id/vouchers',
        {
          preHandler: requireRole('manager'),
          bodyLimit: 16 * 1024 * 1024,
          schema: {
            summary: 'Import e-voucher codes (CSV, first column or a `code` column); stored encrypted, each handed out once',
            description: 'Body: `text/csv`, or JSON `{ "codes": ["…"] }`. Codes already in the pool are skipped.',
            tags: ['rewards'],
            params: idParams,
          },
        },
        async (request, reply) => {
          const body = request.body as unknown;
          let csv: string;
          if (typeof body === 'string') csv = body;
          else {
            const parsed = z.object({ codes: z.array(z.string().min(1).max(200)).min(1).max(200_000) }).safeParse(body);
            if (!parsed.success) throw new AppError('invalid_input', 'Send the codes as text/csv or as {"codes": [...]}');
            csv = parsed.data.codes.map((c) => (/[",;\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join('\n');
          }
          const result = await deps.rewards.importVouchers(deps.sql, request.params.id, csv, actorOf(request));
          if (result.imported === 0 && result.alreadyInPool === 0) throw new AppError('invalid_input', 'The CSV holds no codes');
          return reply.code(201).send({ ...result, emptyLines: result.emptyLines.slice(0, 1000) });
        },
      );
    });
  };
}
