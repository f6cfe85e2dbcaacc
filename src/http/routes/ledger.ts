import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Ledger } from '../../services/ledger/index.js';
import type { RouteModule } from '../server.js';
import { requireRole } from '../plugins/admin-auth.js';

const Problem = z.object({
  kind: z.string(),
  accountId: z.number().nullish(),
  transferId: z.number().nullish(),
  programId: z.string().nullish(),
  participantId: z.string().nullish(),
  expected: z.number().nullish(),
  actual: z.number().nullish(),
});

/** Ledger admin routes under /api/v1: reconciliation for now. */
export function ledgerRoutes(ledger: Ledger): RouteModule {
  return (app: FastifyInstance) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/ledger/check',
      {
        preHandler: requireRole('viewer'),
        schema: {
          summary: 'Reconcile the ledger: transfers balance, cached balances equal entries, holds and lots agree',
          response: { 200: z.object({ ok: z.boolean(), problems: z.array(Problem) }) },
        },
      },
      async () => ledger.check(),
    );
  };
}
