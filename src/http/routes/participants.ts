/**
 * Admin API for participants: search, profile with balance, manager adjustments, status/role.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sql } from '../../db/sql.js';
import type { Ledger } from '../../services/ledger/index.js';
import { adjustPoints, type Participant, type ParticipantsService } from '../../services/participants/index.js';
import { PARTICIPANT_ROLES } from '../../domain/participants/index.js';
import { AppError } from '../../shared/errors.js';
import { newId } from '../../shared/ids.js';
import { requireRole } from '../plugins/admin-auth.js';
import { phoneFor } from '../mask-phone.js';
import type { AdminPrincipal } from '../../services/admin-tokens.js';
import type { RouteModule } from '../server.js';

export interface ParticipantRoutesDeps {
  sql: Sql;
  participants: ParticipantsService;
  ledger: Pick<Ledger, 'balance' | 'adjust' | 'history'>;
}

const roles = PARTICIPANT_ROLES as unknown as [string, ...string[]];

const ParticipantOut = z.object({
  id: z.string(),
  status: z.string(),
  role: z.string().nullable(),
  locale: z.string().nullable(),
  name: z.string().nullable(),
  phone: z.string().nullable(),
  phoneVerified: z.boolean(),
  store: z.string().nullable(),
  profile: z.record(z.string(), z.string().nullable()),
  consentVersion: z.string().nullable(),
  consentAt: z.string().nullable(),
  muted: z.boolean(),
  registeredAt: z.string().nullable(),
  createdAt: z.string(),
});

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
const toOut = (p: Participant, caller: AdminPrincipal | undefined): z.infer<typeof ParticipantOut> => ({
  id: p.id,
  status: p.status,
  role: p.role,
  locale: p.locale,
  name: p.name,
  phone: phoneFor(caller, p.phone),
  phoneVerified: p.phoneVerified,
  store: p.store,
  profile: p.profile,
  consentVersion: p.consentVersion,
  consentAt: iso(p.consentAt),
  muted: p.muted,
  registeredAt: iso(p.registeredAt),
  createdAt: iso(p.createdAt)!,
});

export function participantRoutes(deps: ParticipantRoutesDeps): RouteModule {
  return async (scope: FastifyInstance) => {
    const app = scope.withTypeProvider<ZodTypeProvider>();
    const Params = z.object({ id: z.uuid() });
    const load = async (id: string) => {
      const p = await deps.participants.getById(deps.sql, id);
      if (!p) throw new AppError('not_found', 'No such participant');
      return p;
    };

    app.get(
      '/participants',
      {
        preHandler: requireRole('viewer'),
        schema: {
          summary: 'List or search participants (name, store/company, phone digits)',
          tags: ['participants'],
          querystring: z.object({
            search: z.string().max(100).optional(),
            status: z.enum(['active', 'blocked', 'erased']).optional(),
            role: z.enum(roles).optional(),
            limit: z.coerce.number().int().min(1).max(500).default(50),
            offset: z.coerce.number().int().min(0).default(0),
            /** nextCursor of the page before: the next page by keyset (fast at any depth; offset ignored). */
            after: z.string().max(200).optional(),
          }),
          response: {
            200: z.object({
              items: z.array(ParticipantOut),
              total: z.number(),
              limit: z.number(),
              offset: z.number(),
              nextCursor: z.string().nullable(),
            }),
          },
        },
      },
      async (request) => {
        const q = request.query;
        const { items, total, nextCursor } = await deps.participants.list(deps.sql, { ...q, role: q.role as Participant['role'] & string });
        return { items: items.map((p) => toOut(p, request.admin)), total, limit: q.limit, offset: q.offset, nextCursor };
      },
    );

    app.get(
      '/participants/:id',
      {
        preHandler: requireRole('viewer'),
        schema: {
          summary: 'One participant with balance, chats and recent ledger entries',
          tags: ['participants'],
          params: Params,
        },
      },
      async (request) => {
        const p = await load(request.params.id);
        const [balance, identities, history] = await Promise.all([
          deps.ledger.balance(deps.sql, p.programId, p.id),
          deps.participants.identities(deps.sql, p.id),
          deps.ledger.history(deps.sql, p.programId, p.id, { limit: 20 }),
        ]);
        return {
          ...toOut(p, request.admin),
          balance,
          channels: identities.map((i) => ({
            channel: i.channel,
            unreachable: Boolean(i.unreachableAt),
            unreachableReason: i.unreachableReason,
            lastSeenAt: iso(i.lastSeenAt),
          })),
          history,
        };
      },
    );

    app.patch(
      '/participants/:id',
      {
        preHandler: requireRole('manager'),
        schema: {
          summary: 'Block/unblock, change role, mute broadcasts',
          tags: ['participants'],
          params: Params,
          body: z
            .object({ status: z.enum(['active', 'blocked']).optional(), role: z.enum(roles).optional(), muted: z.boolean().optional() })
            .refine((b) => Object.keys(b).length > 0, 'Nothing to change'),
          response: { 200: ParticipantOut },
        },
      },
      async (request) => {
        const p = await load(request.params.id);
        if (p.status === 'erased') throw new AppError('conflict', 'This participant was erased');
        const b = request.body;
        const updated = await deps.participants.manage(
          deps.sql,
          p.id,
          { status: b.status, role: b.role as NonNullable<Participant['role']> | undefined, muted: b.muted },
          `admin:${request.admin!.name}`,
        );
        return toOut(updated!, request.admin);
      },
    );

    app.post(
      '/participants/:id/adjustments',
      {
        preHandler: requireRole('manager'),
        schema: {
          summary: 'Add or remove points by hand, with a reason (audit-logged)',
          tags: ['participants'],
          params: Params,
          headers: z.object({ 'idempotency-key': z.string().min(1).max(100).optional() }).passthrough(),
          body: z.object({
            amount: z.number().int().refine((n) => n !== 0, 'must not be 0').refine((n) => Math.abs(n) <= 10_000_000, 'too large'),
            reason: z.string().trim().min(3).max(500),
          }),
        },
      },
      async (request, reply) => {
        const p = await load(request.params.id);
        if (p.status === 'erased') throw new AppError('conflict', 'This participant was erased');
        const actor = `admin:${request.admin!.name}`;
        const key = `adjust:${request.headers['idempotency-key'] ?? newId()}`;
        const result = await adjustPoints(deps, {
          programId: p.programId,
          participantId: p.id,
          amount: request.body.amount,
          note: request.body.reason,
          key,
          actor,
        });
        if (result.status === 'insufficient') {
          throw new AppError('insufficient_points', 'The participant does not have that many points available', {
            details: { available: result.available },
          });
        }
        const balance = await deps.ledger.balance(deps.sql, p.programId, p.id);
        return reply.code(result.transfer.replayed ? 200 : 201).send({ transferId: result.transfer.id, key, balance });
      },
    );
  };
}
