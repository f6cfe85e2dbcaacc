/**
 * Broadcast admin API: compose (now or at `sendAt`), follow the counts, pause / resume / cancel,
 * test-send to a manager's own chat, and preview an audience's size.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sql } from '../../db/sql.js';
import { requireRole } from '../plugins/admin-auth.js';
import { AppError } from '../../shared/errors.js';
import { LOCALE_TAGS, type LocaleTag } from '../../shared/locale.js';
import type { BroadcastsService, ControlResult } from '../../services/broadcasts/index.js';
import { PARTICIPANT_ROLES } from '../../domain/participants/index.js';
import { CHANNEL_IDS } from '../../dialog/types.js';

const Text = z.string().trim().min(1).max(3500);
// Per language; `pt` is a text for both Portuguese variants (a variant's own text wins over it).
const perLocale = <T extends z.ZodType>(v: T) => z.object(Object.fromEntries(LOCALE_TAGS.map((l) => [l, v.optional()])) as Record<LocaleTag, z.ZodOptional<T>>);
const Localized = perLocale(Text);
const Label = perLocale(z.string().trim().min(1).max(60));

export const AudienceSchema = z
  .object({
    roles: z.array(z.enum(PARTICIPANT_ROLES as [string, ...string[]])).max(10).optional(),
    campaignId: z.uuid().optional(),
    locales: z.array(z.enum(LOCALE_TAGS)).max(5).optional().describe('`pt` means both pt-PT and pt-BR'),
    channels: z.array(z.enum(CHANNEL_IDS as [string, ...string[]])).max(3).optional(),
    stores: z
      .array(z.string().trim().min(1).max(200))
      .max(1000)
      .optional()
      .describe('Matched like campaign stores: whole words, ignoring case and diacritics ("Demo" reaches "Demo, Lisboa", not "Demolka")'),
    regions: z.array(z.string().trim().min(1).max(200)).max(1000).optional().describe('Matched like stores, against the profile answer `region`'),
    registeredSince: z.iso.datetime({ offset: true }).optional(),
    participantIds: z.array(z.uuid()).max(10_000).optional(),
  })
  .strict()
  .describe('Every registered participant matching all given filters; {} is everyone');

const ComposeBody = z.object({
  message: Localized.refine((m) => Boolean(m.pl || m.pt || m.be), 'give the text in at least one language'),
  audience: AudienceSchema.optional(),
  sendAt: z.iso.datetime({ offset: true }).optional(),
  image: z.object({ url: z.url({ protocol: /^https?$/ }) }).optional(),
  buttons: z
    .array(z.union([z.object({ label: Label, url: z.url({ protocol: /^https?$|^tg$/ }) }), z.object({ label: Label, action: z.string().regex(/^[a-z][a-z0-9_]*:[\w:-]{1,60}$/) })]))
    .max(6)
    .optional(),
  });

const View = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.string(),
  total: z.number(),
  queued: z.number(),
  sending: z.number(),
  sent: z.number(),
  failed: z.number(),
  unreachable: z.number(),
  optedOut: z.number(),
  cancelled: z.number(),
  fanoutDone: z.boolean(),
  sendAt: z.date(),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
});

const Params = z.object({ id: z.uuid() });

export function broadcastRoutes(deps: { sql: Sql; broadcasts: BroadcastsService }) {
  return async (app: FastifyInstance): Promise<void> => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    const { sql, broadcasts } = deps;

    const controlled = (r: ControlResult) => {
      if (r.status === 'not_found') throw new AppError('not_found', 'No such broadcast');
      if (r.status === 'invalid_state') throw new AppError('conflict', `The broadcast is ${r.current}`, { details: { status: r.current } });
      return r.broadcast;
    };

    api.post(
      '/broadcasts',
      {
        preHandler: requireRole('manager'),
        schema: {
          summary: 'Compose a broadcast: texts per language (missing → program default), audience, now or at sendAt',
          body: ComposeBody,
          response: { 201: z.object({ id: z.string(), status: z.string(), recipients: z.number() }) },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const b = await broadcasts.create(sql, {
          message: body.message,
          audience: body.audience as never,
          sendAt: body.sendAt ? new Date(body.sendAt) : undefined,
          image: body.image,
          buttons: body.buttons as never,
          createdBy: `token:${request.admin!.name}`,
        });
        const recipients = await broadcasts.countAudience(sql, b.audience, b.programId);
        await broadcasts.kick(b.id).catch((error: unknown) => request.log.warn({ err: error }, 'broadcast kick failed; the tick starts it'));
        return reply.code(201).send({ id: b.id, status: b.status, recipients });
      },
    );

    api.post(
      '/broadcasts/preview',
      {
        preHandler: requireRole('manager'),
        schema: { summary: 'How many participants an audience reaches now', body: z.object({ audience: AudienceSchema.default({}) }), response: { 200: z.object({ recipients: z.number() }) } },
      },
      async (request) => ({ recipients: await broadcasts.countAudience(sql, request.body.audience as never) }),
    );

    api.get(
      '/broadcasts/:id',
      { preHandler: requireRole('viewer'), schema: { summary: 'Status and delivery counts', params: Params, response: { 200: View } } },
      async (request) => {
        const v = await broadcasts.get(sql, request.params.id);
        if (!v) throw new AppError('not_found', 'No such broadcast');
        return v;
      },
    );

    for (const action of ['pause', 'resume', 'cancel'] as const) {
      api.post(
        `/broadcasts/:id/${action}`,
        { preHandler: requireRole('manager'), schema: { summary: `${action[0]!.toUpperCase()}${action.slice(1)} a broadcast`, params: Params, response: { 200: View } } },
        async (request) => controlled(await broadcasts[action](request.params.id)),
      );
    }

    api.post(
      '/broadcasts/:id/test',
      {
        preHandler: requireRole('manager'),
        schema: {
          summary: 'Send the broadcast to one participant (the manager) first, in their language',
          params: Params,
          body: z.object({ participantId: z.uuid() }),
          response: { 202: z.object({ status: z.literal('queued') }) },
        },
      },
      async (request, reply) => {
        const r = await broadcasts.testSend(sql, request.params.id, request.body.participantId);
        if (r.status === 'not_found') throw new AppError('not_found', 'No such broadcast');
        if (r.status === 'no_participant') throw new AppError('not_found', 'No such participant');
        if (r.status === 'unreachable') throw new AppError('conflict', 'The participant has no reachable chat');
        return reply.code(202).send({ status: 'queued' as const });
      },
    );
  };
}
