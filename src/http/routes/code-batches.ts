/**
 * Admin API for code batches: generate (`POST /campaigns/:id/code-batches`, codes shown only in
 * that answer, JSON or CSV with `Accept: text/csv`), import pre-printed codes (CSV body), batch
 * statistics, export of used codes (time, participant) and guess lockouts.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { codeBatchInput, isoDate } from '../../domain/campaigns/rules-schema.js';
import { PARTICIPANT_ROLES } from '../../domain/campaigns/campaign.js';
import { splitCsvLine } from '../../domain/sales/sales.js';
import { STANDARD_CSV, writeCsv, type CsvFormat } from '../../shared/csv.js';
import { csvFormatOf, csvFormatQuery, wantsCsv } from '../csv-format.js';
import type { CodesService } from '../../services/codes/index.js';
import { AppError } from '../../shared/errors.js';
import { requireRole } from '../plugins/admin-auth.js';
import type { RouteModule } from '../server.js';
import { actorOf } from './campaigns.js';

const idParams = z.object({ id: z.uuid() });

const batchJson = (b: Awaited<ReturnType<CodesService['createBatch']>>['batch']) => ({
  id: b.id,
  campaignId: b.campaignId,
  source: b.source,
  label: b.label,
  count: b.codeCount,
  points: b.points,
  prefix: b.prefix,
  length: b.length,
  expiresAt: b.expiresAt?.toISOString() ?? null,
  usesPerCode: b.usesPerCode,
  audienceRole: b.audienceRole,
  createdAt: b.createdAt.toISOString(),
});

/** Code files have always ended lines with LF; the Excel form (`?format=excel`) is the shared one. */
const CODES_CSV: CsvFormat = { ...STANDARD_CSV, eol: '\n' };

const CODE_HEADER = /^(codes?|kody?|c[oó]digos?|коды?)$/i;

/**
 * The codes of a CSV file: the column headed `code` (or kod, código, код), or, in a file of one
 * column and no such header, every line. A file of several columns without a `code` header is
 * refused, so a header such as `points,expires` is never imported as a code.
 */
export function codesFromCsv(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim());
  const sep = lines[0]?.includes(';') && !lines[0].includes(',') ? ';' : ',';
  const header = splitCsvLine(lines[0] ?? '', sep).map((c) => c.trim());
  const column = header.findIndex((c) => CODE_HEADER.test(c));
  if (column < 0 && header.length > 1) {
    throw new AppError('invalid_input', 'The CSV needs a column headed "code"', { details: { field: 'code', header } });
  }
  const rows = column < 0 ? lines : lines.slice(1);
  return rows.map((l) => (splitCsvLine(l, sep)[Math.max(column, 0)] ?? '').trim()).filter(Boolean);
}

export function codeBatchRoutes(deps: { codes: CodesService }): RouteModule {
  return async (app: FastifyInstance) => {
    await app.register(async (scope) => {
      scope.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
      const api = scope.withTypeProvider<ZodTypeProvider>();

      api.post(
        '/campaigns/:id/code-batches',
        {
          preHandler: requireRole('manager'),
          schema: {
            summary: 'Generate a batch of codes (up to 1,000,000); the codes are shown only in this answer',
            description:
              'Send `Accept: text/csv` for a CSV file (one code a line) instead of JSON; `?format=excel` for the form Excel opens as it is (UTF-8 BOM, semicolons for pl/pt/be readers).',
            querystring: csvFormatQuery,
            tags: ['codes'],
            params: idParams,
            body: codeBatchInput,
          },
        },
        async (request, reply) => {
          const { batch, codes } = await deps.codes.createBatch(request.params.id, request.body, actorOf(request));
          reply.code(201).header('cache-control', 'no-store');
          if (wantsCsv(request)) {
            return reply
              .type('text/csv; charset=utf-8')
              .header('content-disposition', `attachment; filename="codes-${batch.id}.csv"`)
              .header('x-batch-id', batch.id)
              .send(writeCsv([['code'], ...codes.map((c) => [c])], csvFormatOf(request, CODES_CSV)));
          }
          return reply.type('application/json').send(JSON.stringify({ ...batchJson(batch), codes }));
        },
      );

      api.post(
        '/campaigns/:id/code-batches/import',
        {
          preHandler: requireRole('manager'),
          bodyLimit: 64 * 1024 * 1024,
          schema: {
            summary: 'Import pre-printed codes from CSV (first column); stored as keyed hashes like generated ones',
            description:
              'Body: text/csv. Batch settings in the query string. The report is JSON (lists cut at 1,000), or with `Accept: text/csv` / `?format=csv|excel` a CSV of every duplicate and invalid code.',
            tags: ['codes'],
            params: idParams,
            querystring: z.object({
              points: z.coerce.number().int().min(1).max(1_000_000),
              expiresAt: isoDate.optional(),
              usesPerCode: z.coerce.number().int().min(1).optional(),
              audienceRole: z.enum(PARTICIPANT_ROLES).optional(),
              label: z.string().max(200).optional(),
            }).extend(csvFormatQuery.shape),
          },
        },
        async (request, reply) => {
          if (typeof request.body !== 'string') throw new AppError('invalid_input', 'Send the codes as text/csv');
          const codes = codesFromCsv(request.body);
          if (!codes.length) throw new AppError('invalid_input', 'The CSV holds no codes');
          if (codes.length > 1_000_000) throw new AppError('invalid_input', 'At most 1,000,000 codes per import');
          const { format: _format, locale: _locale, ...settings } = request.query;
          const r = await deps.codes.importBatch(request.params.id, { ...settings, codes }, actorOf(request));
          if (wantsCsv(request)) {
            const rows = [['code', 'problem'], ...r.duplicates.map((c) => [c, 'duplicate']), ...r.invalid.map((c) => [c, 'invalid'])];
            return reply
              .code(201)
              .type('text/csv; charset=utf-8')
              .header('content-disposition', `attachment; filename="import-${r.batch.id}.csv"`)
              .header('x-batch-id', r.batch.id)
              .header('x-imported', String(r.imported))
              .send(writeCsv(rows, csvFormatOf(request, CODES_CSV)));
          }
          return reply.code(201).send({
            ...batchJson(r.batch),
            imported: r.imported,
            duplicates: r.duplicates.slice(0, 1000),
            duplicateCount: r.duplicates.length,
            invalid: r.invalid.slice(0, 1000),
            invalidCount: r.invalid.length,
          });
        },
      );

      api.get(
        '/campaigns/:id/code-batches',
        { preHandler: requireRole('viewer'), schema: { tags: ['codes'], params: idParams } },
        async (request) => ({ items: (await deps.codes.batches(request.params.id)).map(batchJson) }),
      );

      api.get(
        '/code-batches/:id',
        { preHandler: requireRole('viewer'), schema: { summary: 'A batch with used and unused counts', tags: ['codes'], params: idParams } },
        async (request) => {
          const b = await deps.codes.batch(request.params.id);
          if (!b) throw new AppError('not_found', 'No such batch');
          return { ...batchJson(b), stats: await deps.codes.stats(b.id) };
        },
      );

      api.get(
        '/code-batches/:id/used',
        {
          preHandler: requireRole('viewer'),
          schema: {
            summary: 'Used codes of a batch: time and participant (JSON, or CSV with Accept: text/csv)',
            tags: ['codes'],
            params: idParams,
            querystring: z.object({
              limit: z.coerce.number().int().min(1).max(10_000).optional(),
              after: z.coerce.number().int().min(0).optional(),
            }).extend(csvFormatQuery.shape),
          },
        },
        async (request, reply) => {
          const b = await deps.codes.batch(request.params.id);
          if (!b) throw new AppError('not_found', 'No such batch');
          const rows = await deps.codes.usedCodes(b.id, { limit: request.query.limit, after: request.query.after });
          if (wantsCsv(request)) {
            const table = [['codeId', 'redeemedAt', 'participantId', 'points', 'channel'], ...rows.map((r) => [r.codeId, r.redeemedAt, r.participantId, r.points, r.channel ?? ''])];
            return reply.type('text/csv; charset=utf-8').send(writeCsv(table, csvFormatOf(request, CODES_CSV)));
          }
          return {
            items: rows.map((r) => ({ ...r, redeemedAt: r.redeemedAt.toISOString() })),
            next: rows.length ? rows.at(-1)!.redemptionId : null,
          };
        },
      );

      api.get(
        '/code-lockouts',
        {
          preHandler: requireRole('viewer'),
          schema: {
            summary: 'Participants and chat identities locked out for guessing codes',
            tags: ['codes'],
            querystring: z.object({ all: z.enum(['true', 'false']).optional() }),
          },
        },
        async (request) => ({
          items: (await deps.codes.lockouts({ includeExpired: request.query.all === 'true' })).map((l) => ({
            ...l,
            lockedAt: l.lockedAt.toISOString(),
            until: l.until.toISOString(),
          })),
        }),
      );

      api.delete(
        '/code-lockouts/:subject',
        { preHandler: requireRole('manager'), schema: { tags: ['codes'], params: z.object({ subject: z.string().min(3).max(300) }) } },
        async (request, reply) => {
          if (!(await deps.codes.unlock(request.params.subject, actorOf(request)))) throw new AppError('not_found', 'No active lockout');
          return reply.code(204).send();
        },
      );
    });
  };
}
