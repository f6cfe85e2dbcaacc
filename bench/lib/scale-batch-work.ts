/** The batch workloads of bench:scale: reconciliation and a broadcast's fan-out to everyone. */
import * as broadcastsRepo from '../../src/db/broadcasts/repo.js';
import type { Sql } from '../../src/db/sql.js';
import type { Ledger } from '../../src/services/ledger/index.js';

export async function reconcile(ledger: Ledger): Promise<Record<string, unknown>> {
  const res = await ledger.check();
  if (!res.ok) throw new Error(`ledger check found problems: ${JSON.stringify(res.problems.slice(0, 3))}`);
  return { ok: res.ok };
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
