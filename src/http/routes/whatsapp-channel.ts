/**
 * Linking the WhatsApp number: managers see the client's state and, while it waits for a scan, the
 * QR code (as a PNG data URL in JSON, or the PNG itself with `?format=png`); logging out drops the
 * linked device and a new QR follows, without restarting the service.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import QRCode from 'qrcode';
import { z } from 'zod';
import type { WhatsAppControl } from '../../channels/whatsapp/control.js';
import { AppError } from '../../shared/errors.js';
import { requireRole } from '../plugins/admin-auth.js';
import type { RouteModule } from '../server.js';
import type { Sql } from '../../db/sql.js';
import { audit } from '../../db/audit-repo.js';

const State = z.enum(['off', 'starting', 'qr', 'ready', 'disconnected', 'unknown']);

const StatusBody = z.object({
  enabled: z.boolean(),
  state: State,
  since: z.string().nullable(),
  detail: z.string().nullable(),
  /** `data:image/png;base64,…` while the state is `qr`. */
  qr: z.string().nullable(),
});

export function whatsappChannelRoutes(deps: { control: WhatsAppControl | undefined; sql: Sql }): RouteModule {
  const { control } = deps;
  return async (app: FastifyInstance) => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.get(
      '/channels/whatsapp',
      {
        preHandler: requireRole('manager'),
        schema: {
          summary: 'WhatsApp client state and the QR code to link the number (manager+)',
          querystring: z.object({ format: z.enum(['json', 'png']).default('json') }),
          response: { 200: StatusBody },
        },
      },
      async (request, reply) => {
        if (!control) {
          if (request.query.format === 'png') throw new AppError('not_found', 'WhatsApp is not enabled');
          return { enabled: false, state: 'off' as const, since: null, detail: 'WHATSAPP_ENABLED is not set', qr: null };
        }
        const s = await control.status();
        const qr = s.state === 'qr' ? s.qr : undefined;
        if (request.query.format === 'png') {
          if (!qr) throw new AppError('not_found', `No QR code to scan: WhatsApp is ${s.state}`);
          const png = await QRCode.toBuffer(qr, { type: 'png', margin: 2, width: 320 });
          // A Buffer is sent as is (no JSON serialisation).
          return reply.header('cache-control', 'no-store').type('image/png').send(png as never);
        }
        void reply.header('cache-control', 'no-store');
        return {
          enabled: true,
          state: s.state,
          since: s.since ? s.since.toISOString() : null,
          detail: s.detail ?? null,
          qr: qr ? await QRCode.toDataURL(qr, { margin: 2, width: 320 }) : null,
        };
      },
    );

    api.post(
      '/channels/whatsapp/logout',
      {
        preHandler: requireRole('manager'),
        schema: {
          summary: 'Log the WhatsApp number out; a new QR code follows (manager+)',
          response: { 202: z.object({ ok: z.literal(true) }) },
        },
      },
      async (request, reply) => {
        if (!control) throw new AppError('not_found', 'WhatsApp is not enabled');
        await control.logout();
        await audit(deps.sql, request.admin?.name ?? 'unknown', 'whatsapp.logout', 'channel:whatsapp');
        return reply.code(202).send({ ok: true as const });
      },
    );
  };
}
