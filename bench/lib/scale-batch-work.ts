/** The batch workloads of bench:scale: reconciliation and a broadcast's fan-out to everyone. */
import * as broadcastsRepo from '../../src/db/broadcasts/repo.js';
import type { Sql } from '../../src/db/sql.js';
import type { CheckResult, Ledger } from '../../src/services/ledger/index.js';
import { createReconciliation } from '../../src/services/ledger/reconcile.js';

const reconciliation = createReconciliation();
const passed = (res: CheckResult) => {
  if (!res.ok) throw new Error(`ledger check found problems: ${JSON.stringify(res.problems.slice(0, 3))}`);
  return { ok: res.ok };
};

/** ledger_check(): one statement over everything (Ledger.check(), GET /ledger/check). */
export async function reconcileAll(ledger: Ledger): Promise<Record<string, unknown>> {
  return passed(await ledger.check());
}

/** The full check range by range (bounded memory, progress); it also sets the verified point. */
export async function reconcileFull(sql: Sql): Promise<Record<string, unknown>> {
  let ranges = 0;
  const res = await reconciliation.full(sql, { onProgress: () => (ranges += 1) });
  return { ...passed(res), ranges };
}

/** What changed since the verified point (margin 0: the bench knows nothing else writes). */
export async function reconcileChanges(sql: Sql): Promise<Record<string, unknown>> {
  const [before] = await sql<{ v: string; m: string }[]>`
    select (select verified_id from ledger_check_point)::text as v, (select max(id) from ledger_transfers)::text as m`;
  const res = await reconciliation.changes(sql, { marginMs: 0 });
  return { ...passed(res), transfers: Number(before!.m) - Number(before!.v) };
}

/**
 * A broadcast to every participant, fanned out the way the broadcast worker does it (one
 * transaction per batch of 1,000 holding the broadcast row, src/jobs/broadcasts/worker.ts), through
 * the same repository calls. Nothing is sent: this measures writing the delivery rows.
 */
export async function fanOutAll(sql: Sql, programId: string, batchSize = 1000): Promise<Record<string, unknown>> {
  const b = await broadcastsRepo.insert(sql, { programId, kind: 'manual', message: { pl: 'Nowa kampania!' } as never, audience: {} });
  await broadcastsRepo.transition(sql, b!.id, ['scheduled'], 'fanning_out');
  let batches = 0;
  for (;;) {
    const n = await sql.begin(async (tx) => {
      await tx`select 1 from broadcasts where id = ${b!.id} for update`;
      const fresh = (await broadcastsRepo.getById(tx, b!.id))!;
      const covered = await broadcastsRepo.fanoutBatch(tx, fresh, batchSize);
      if (covered < batchSize) await broadcastsRepo.finishFanout(tx, b!.id);
      return covered;
    });
    batches += 1;
    if (n < batchSize) break;
  }
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from broadcast_deliveries where broadcast_id = ${b!.id}`;
  return { deliveries: row!.n, batches };
}
