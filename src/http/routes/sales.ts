/** Admin API for sales: review (approve/reject) and distributor sell-out imports. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sql } from '../../db/sql.js';
import type { SalesService, SellOutReport } from '../../services/sales/index.js';
import { writeCsv } from '../../shared/csv.js';
import { csvFormatOf, csvFormatQuery, wantsCsv } from '../csv-format.js';
import { AppError } from '../../shared/errors.js';
import { requireRole } from '../plugins/admin-auth.js';
import type { RouteModule } from '../server.js';
import { actorOf } from './campaigns.js';

const idParams = z.object({ id: z.uuid() });

/** The sell-out report as a table: the counts, then one row per invoice not found, bad line and debt left owed. */
function reportRows(r: SellOutReport): unknown[][] {
  return [
    ['item', 'value', 'sale_id', 'participant_id', 'kind', 'due_points'],
    ['confirmed', r.confirmed],
    ['rejected', r.rejected],
    ['clawed_back', r.clawedBack],
    ['already_decided', r.alreadyDecided],
    ['recovered_points', r.recovered],
    ...r.notFound.map((invoice) => ['not_found', invoice]),
    ...r.bad.map((b) => ['bad_line', `${b.line}: ${b.reason}`]),
    ...r.clawbackShort.map((s) => ['clawback_short', '', s.saleId, s.participantId, s.kind, s.due]),
  ];
}

export function salesRoutes(deps: { sql: Sql; sales: SalesService }): RouteModule {
  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      scope.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
      const api = scope.withTypeProvider<ZodTypeProvider>();
      api.get(
        '/sales',
        {
          preHandler: requireRole('viewer'),
          schema: {
            tags: ['sales'],
            querystring: z.object({
              status: z.enum(['pending', 'confirmed', 'rejected']).optional(),
              campaignId: z.uuid().optional(),
              limit: z.coerce.number().int().min(1).max(500).optional(),
              offset: z.coerce.number().int().min(0).optional(),
            }),
          },
        },
        async (request) => ({ items: await deps.sales.list(deps.sql, request.query) }),
      );

      const decide = (verdict: 'approve' | 'reject') =>
        api.post(
          `/sales/:id/${verdict}`,
          {
            preHandler: requireRole('manager'),
            schema: {
              summary: verdict === 'approve' ? 'Approve a pending sale: its points become available' : 'Reject a pending sale',
              tags: ['sales'],
              params: idParams,
              body: z.object({ note: z.string().max(500).optional() }).optional(),
            },
          },
          async (request) => {
            const actor = actorOf(request);
            const r =
              verdict === 'approve'
                ? await deps.sales.approve(deps.sql, request.params.id, actor)
                : await deps.sales.reject(deps.sql, request.params.id, actor, request.body?.note);
            if (r.status === 'not_found') throw new AppError('not_found', 'No such sale');
            if (r.status === 'already_decided') throw new AppError('conflict', `The sale is already ${r.saleStatus}`);
            return r;
          },
        );
      decide('approve');
      decide('reject');

      api.post(
        '/sales/sell-out',
        {
          preHandler: requireRole('manager'),
          bodyLimit: 32 * 1024 * 1024,
          schema: {
            summary: 'Distributor sell-out CSV: confirm or reject pending sales by invoice; claws back paid ones found invalid',
            description:
              'text/csv with columns invoice,status (confirm|reject), optional sku,quantity. Points already spent stay owed: ' +
              '`clawbackShort` lists what each clawback could not take yet; every import first collects such debts (`recovered`). ' +
              'The report is JSON, or with `Accept: text/csv` / `?format=csv|excel` a CSV (the Excel form has a UTF-8 BOM and semicolons for pl/pt/be readers).',
            tags: ['sales'],
            querystring: csvFormatQuery,
          },
        },
        async (request, reply) => {
          if (typeof request.body !== 'string' || !request.body.trim()) throw new AppError('invalid_input', 'Send the sell-out data as text/csv');
          const report = await deps.sales.importSellOut(deps.sql, request.body, actorOf(request));
          if (report.bad.length === 1 && report.bad[0]!.line === 1) throw new AppError('invalid_input', report.bad[0]!.reason);
          if (wantsCsv(request)) {
            return reply
              .type('text/csv; charset=utf-8')
              .header('content-disposition', 'attachment; filename="sell-out-report.csv"')
              .send(writeCsv(reportRows(report), csvFormatOf(request)));
          }
          return report;
        },
      );
    });
  };
}
