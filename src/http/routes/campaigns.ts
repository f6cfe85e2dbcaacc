/** Admin API for campaigns and their targets: `/api/v1/campaigns…`. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { campaignCreateInput, campaignPatchInput, targetInput } from '../../domain/campaigns/rules-schema.js';
import { CAMPAIGN_STATUSES } from '../../domain/campaigns/campaign.js';
import type { CampaignsService, CampaignView } from '../../services/campaigns/index.js';
import type { Sql } from '../../db/sql.js';
import type { SalesService } from '../../services/sales/index.js';
import { AppError } from '../../shared/errors.js';
import { requireRole } from '../plugins/admin-auth.js';
import type { RouteModule } from '../server.js';

export const actorOf = (request: { admin?: { name: string } }): string => `admin:${request.admin?.name ?? 'unknown'}`;

const present = (c: CampaignView) => ({
  id: c.id,
  name: c.name,
  names: c.names,
  descriptions: c.descriptions,
  status: c.status,
  startsAt: c.startsAt.toISOString(),
  endsAt: c.endsAt.toISOString(),
  audienceRoles: c.audienceRoles,
  stores: c.stores,
  regions: c.regions,
  multipliers: c.multipliers.map((m) => ({ ...m, startsAt: m.startsAt.toISOString(), endsAt: m.endsAt.toISOString() })),
  caps: { perParticipantPerDay: c.capPerDay, perParticipantPerCampaign: c.capPerCampaign },
  budget: c.budget,
  awarded: c.budget === null ? null : c.awarded,
  budgetExhaustedAt: c.budgetExhaustedAt?.toISOString() ?? null,
  requiresApproval: c.requiresApproval,
  productRules: c.productRules,
  createdAt: c.createdAt.toISOString(),
});

const idParams = z.object({ id: z.uuid() });

export function campaignRoutes(deps: { sql: Sql; campaigns: CampaignsService; sales: SalesService }): RouteModule {
  return async (app: FastifyInstance) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.post(
      '/campaigns',
      {
        preHandler: requireRole('manager'),
        schema: {
          summary: 'Create a campaign (names per language, window, audience, earning rules, caps, budget)',
          tags: ['campaigns'],
          body: campaignCreateInput,
        },
      },
      async (request, reply) => reply.code(201).send(present(await deps.campaigns.create(request.body, actorOf(request)))),
    );
    api.get(
      '/campaigns',
      {
        preHandler: requireRole('viewer'),
        schema: {
          tags: ['campaigns'],
          querystring: z.object({
            status: z.enum(CAMPAIGN_STATUSES).optional(),
            limit: z.coerce.number().int().min(1).max(200).optional(),
            offset: z.coerce.number().int().min(0).optional(),
          }),
        },
      },
      async (request) => ({ items: (await deps.campaigns.list(request.query)).map(present) }),
    );
    api.get(
      '/campaigns/:id',
      { preHandler: requireRole('viewer'), schema: { tags: ['campaigns'], params: idParams } },
      async (request) => {
        const c = await deps.campaigns.get(request.params.id);
        if (!c) throw new AppError('not_found', 'No such campaign');
        return present(c);
      },
    );
    api.patch(
      '/campaigns/:id',
      { preHandler: requireRole('manager'), schema: { tags: ['campaigns'], params: idParams, body: campaignPatchInput } },
      async (request) => present(await deps.campaigns.patch(request.params.id, request.body, actorOf(request))),
    );
    api.post(
      '/campaigns/:id/targets',
      {
        preHandler: requireRole('manager'),
        schema: { summary: 'A sales target for a participant or a store', tags: ['sales'], params: idParams, body: targetInput },
      },
      async (request, reply) => reply.code(201).send(await deps.sales.createTarget(deps.sql, request.params.id, request.body, actorOf(request))),
    );
    api.get(
      '/campaigns/:id/targets',
      { preHandler: requireRole('viewer'), schema: { tags: ['sales'], params: idParams } },
      async (request) => ({ items: await deps.sales.listTargets(deps.sql, request.params.id) }),
    );
  };
}
