import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sql } from '../../db/sql.js';
import type { Ledger } from '../../services/ledger/index.js';
import type { Reconciliation } from '../../services/ledger/reconcile.js';
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

/**
 * Ledger admin routes under /api/v1: reconciliation for now. `scope=changes` checks only what
 * changed since the last verified point and `scope=full` everything range by range (both need
 * `reconcile`); without a scope, ledger_check() as before.
 */
export function ledgerRoutes(ledger: Ledger, reconcile?: { sql: Sql; reconciliation: Reconciliation }): RouteModule {
  return (app: FastifyInstance) => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/ledger/check',
      {
        preHandler: requireRole('viewer'),
        schema: {
          summary: 'Reconcile the ledger: transfers balance, cached balances equal entries, holds and lots agree',
          querystring: z.object({ scope: z.enum(['all', 'changes', 'full']).default('all') }),
          response: { 200: z.object({ ok: z.boolean(), problems: z.array(Problem) }) },
        },
      },
      async (request) => {
        const scope = request.query.scope;
        if (scope === 'all' || !reconcile) return ledger.check();
        return scope === 'changes' ? reconcile.reconciliation.changes(reconcile.sql) : reconcile.reconciliation.full(reconcile.sql);
      },
    );
  };
}
