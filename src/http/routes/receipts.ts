/**
 * Receipt review over HTTP: the queue (`GET /api/v1/receipts?status=pending`), decisions
 * (`POST …/:id/approve`, `…/:id/reject`), the reasons list, campaign receipt rules, and the photo.
 * Photos are personal data: the JSON carries a short-lived signed URL to a public media route, so a
 * panel can show them in an <img> without handing out the bearer token.
 */
import type { Sql } from '../../db/sql.js';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { REJECT_REASONS, RECEIPT_STATUSES, ReceiptRules } from '../../domain/receipts/index.js';
import type { ReceiptRow, ReceiptsService } from '../../services/receipts/index.js';
import { LOCALES, type I18n } from '../../i18n/index.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { requireRole } from '../plugins/admin-auth.js';
import type { RouteModule } from '../server.js';

export interface ReceiptRoutesDeps {
  sql: Sql;
  receipts: ReceiptsService;
  i18n: I18n;
  /** Key for signing image URLs (kept in DATA_DIR/secrets, see main.ts). */
  mediaSecret: Buffer;
  /** How long a signed image URL works. */
  imageUrlTtlSeconds?: number;
  clock?: Clock;
}

const sign = (secret: Buffer, id: string, exp: number) => createHmac('sha256', secret).update(`receipt-image:${id}:${exp}`).digest('base64url');

export function signedImagePath(secret: Buffer, id: string, exp: number): string {
  return `/media/receipts/${id}?exp=${exp}&sig=${sign(secret, id, exp)}`;
}

const actorOf = (request: { admin?: { name: string } }): string => `admin:${request.admin?.name ?? 'unknown'}`;
const idParams = z.object({ id: z.uuid() });

function present(r: ReceiptRow, imageUrl: string) {
  return {
    id: r.id,
    participantId: r.participantId,
    campaignId: r.campaignId,
    status: r.status,
    createdAt: r.createdAt.toISOString(),
    processedAt: r.processedAt?.toISOString() ?? null,
    reading: r.reading,
    documentKey: r.documentKey,
    sellerTaxId: r.sellerTaxId,
    issuedOn: r.issuedOn,
    total: r.totalMinor !== null && r.currency ? { amount: r.totalMinor / 100, currency: r.currency } : null,
    fields: r.fields,
    flags: r.flags,
    confidence: r.confidence,
    computedPoints: r.computedPoints,
    points: r.points,
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt?.toISOString() ?? null,
    rejectReason: r.rejectReason,
    rejectNote: r.rejectNote,
    caption: r.caption,
    image: { url: imageUrl, mimeType: r.mimeType, width: r.width, height: r.height, bytes: r.byteSize },
  };
}

export function receiptRoutes(deps: ReceiptRoutesDeps): RouteModule {
  const clock = deps.clock ?? systemClock;
  const ttl = deps.imageUrlTtlSeconds ?? 3600;
  const url = (id: string) => signedImagePath(deps.mediaSecret, id, Math.floor(clock.now().getTime() / 1000) + ttl);

  return async (app: FastifyInstance) => {
    const api = app.withTypeProvider<ZodTypeProvider>();

    api.get(
      '/receipts',
      {
        preHandler: requireRole('moderator'),
        schema: {
          summary: 'Receipts to review (oldest first for pending), with what was read, flags and a signed image URL',
          tags: ['receipts'],
          querystring: z.object({
            status: z.enum(RECEIPT_STATUSES).optional(),
            participantId: z.uuid().optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
            /** Newest-first lists: the createdAt of the last item seen. */
            before: z.iso.datetime({ offset: true }).optional(),
            /** Oldest-first lists (pending, received): the createdAt of the last item seen. */
            after: z.iso.datetime({ offset: true }).optional(),
          }),
        },
      },
      async (request) => {
        const q = request.query;
        const items = await deps.receipts.list({
          status: q.status,
          participantId: q.participantId,
          limit: q.limit,
          before: q.before ? new Date(q.before) : undefined,
          after: q.after ? new Date(q.after) : undefined,
        });
        return { items: items.map((r) => present(r, url(r.id))) };
      },
    );

    api.get(
      '/receipts/reject-reasons',
      { preHandler: requireRole('moderator'), schema: { summary: 'Reasons a rejection can give, in every language', tags: ['receipts'] } },
      async () => ({
        reasons: REJECT_REASONS.map((code) => ({
          code,
          labels: Object.fromEntries(LOCALES.map((l) => [l, deps.i18n.t(l)(`receipts:reason.${code}`)])),
        })),
      }),
    );

    api.get(
      '/receipts/:id',
      { preHandler: requireRole('moderator'), schema: { tags: ['receipts'], params: idParams } },
      async (request) => {
        const r = await deps.receipts.get(deps.sql, request.params.id);
        if (!r) throw new AppError('not_found', 'No such receipt');
        return present(r, url(r.id));
      },
    );

    api.get(
      '/receipts/:id/image',
      { preHandler: requireRole('moderator'), schema: { summary: 'The receipt photo (bearer-protected)', tags: ['receipts'], params: idParams } },
      async (request, reply) => {
        const r = await deps.receipts.get(deps.sql, request.params.id);
        const bytes = r ? await deps.receipts.image(r) : null;
        if (!r || !bytes) throw new AppError('not_found', 'No such receipt image');
        return reply.header('cache-control', 'private, max-age=300').type(r.mimeType).send(bytes);
      },
    );

    api.post(
      '/receipts/:id/approve',
      {
        preHandler: requireRole('moderator'),
        schema: {
          summary: 'Approve: credits the computed points, or the points given. Exactly once per receipt.',
          tags: ['receipts'],
          params: idParams,
          body: z.object({ points: z.number().int().positive().max(10_000_000).optional() }).optional(),
        },
      },
      async (request) => {
        const result = await deps.receipts.approve(deps.sql, { receiptId: request.params.id, points: request.body?.points, actor: actorOf(request) });
        switch (result.status) {
          case 'approved':
            return { ...present(result.receipt, url(result.receipt.id)), balance: { available: result.balance } };
          case 'not_found':
            throw new AppError('not_found', 'No such receipt');
          case 'already_decided':
            throw new AppError('conflict', `The receipt is already ${result.receipt.status}`, {
              details: { status: result.receipt.status, points: result.receipt.points, decidedBy: result.receipt.decidedBy },
            });
          case 'points_required': {
            const r = result.receipt;
            // Say why: a total was read, but no rules turn it into points (none yet, or fixed to none).
            const why =
              r.totalMinor !== null && r.currency
                ? `no receipt rules give points for it (total read: ${(r.totalMinor / 100).toFixed(2)} ${r.currency})`
                : 'its total could not be read';
            throw new AppError('invalid_input', `The rules give no points for this receipt: ${why}. Send {"points": n}`, {
              details: { field: 'points', totalMinor: r.totalMinor, currency: r.currency },
            });
          }
          case 'campaign_limit':
            throw new AppError('conflict', `The campaign's ${result.limit.replace('_', ' ')} does not allow these points`, {
              details: { limit: result.limit },
            });
          case 'document_already_paid':
            throw new AppError('conflict', 'Points for this purchase were already paid for another receipt of the same document', {
              details: { documentKey: result.receipt.documentKey },
            });
          case 'not_allowed':
            // Only chat reviewers are checked (admins carry no participant); kept for exhaustiveness.
            throw new AppError('forbidden', 'You may not decide this receipt');
        }
      },
    );

    api.post(
      '/receipts/:id/reject',
      {
        preHandler: requireRole('moderator'),
        schema: {
          summary: 'Reject with a reason from GET /receipts/reject-reasons, or free text (note), or both',
          tags: ['receipts'],
          params: idParams,
          body: z
            .object({ reason: z.enum(REJECT_REASONS).optional(), note: z.string().trim().min(1).max(500).optional() })
            .refine((b) => b.reason !== undefined || b.note !== undefined, { message: 'Give a reason or a note' }),
        },
      },
      async (request) => {
        const result = await deps.receipts.reject(deps.sql, {
          receiptId: request.params.id,
          reason: request.body.reason ?? null,
          note: request.body.note ?? null,
          actor: actorOf(request),
        });
        if (result.status === 'not_found') throw new AppError('not_found', 'No such receipt');
        if (result.status === 'not_allowed') throw new AppError('forbidden', 'You may not decide this receipt');
        if (result.status === 'already_decided') {
          throw new AppError('conflict', `The receipt is already ${result.receipt.status}`, { details: { status: result.receipt.status } });
        }
        return present(result.receipt, url(result.receipt.id));
      },
    );

    api.put(
      '/campaigns/:id/receipt-rules',
      {
        preHandler: requireRole('manager'),
        schema: { summary: 'Set the receipt rules of a campaign (a campaign without rules takes no receipts)', tags: ['receipts'], params: idParams, body: ReceiptRules },
      },
      async (request) => deps.receipts.setRules(request.params.id, request.body),
    );

    api.get(
      '/campaigns/:id/receipt-rules',
      { preHandler: requireRole('viewer'), schema: { tags: ['receipts'], params: idParams } },
      async (request) => {
        const rules = await deps.receipts.getRules(request.params.id);
        if (!rules) throw new AppError('not_found', 'This campaign has no receipt rules');
        return rules;
      },
    );
  };
}

/** The public side of signed image URLs: `/media/receipts/:id?exp&sig`. */
export function receiptMediaRoutes(deps: Pick<ReceiptRoutesDeps, 'sql' | 'receipts' | 'mediaSecret' | 'clock'>): RouteModule {
  const clock = deps.clock ?? systemClock;
  return async (app: FastifyInstance) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.get(
      '/media/receipts/:id',
      {
        schema: {
          hide: true,
          params: idParams,
          querystring: z.object({ exp: z.coerce.number().int().positive(), sig: z.string().min(1).max(100) }),
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const { exp, sig } = request.query;
        const expected = Buffer.from(sign(deps.mediaSecret, id, exp));
        const given = Buffer.from(sig);
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new AppError('forbidden', 'Invalid signature');
        if (exp * 1000 < clock.now().getTime()) throw new AppError('forbidden', 'This link has expired');
        const r = await deps.receipts.get(deps.sql, id);
        const bytes = r ? await deps.receipts.image(r) : null;
        if (!r || !bytes) throw new AppError('not_found', 'No such image');
        return reply.header('cache-control', 'private, max-age=300').type(r.mimeType).send(bytes);
      },
    );
  };
}
