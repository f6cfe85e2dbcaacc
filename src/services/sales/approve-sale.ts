/**
 * A decision on a sale: a manager's approval or rejection of a pending one, or a sell-out import's
 * verdict, which may also reject a sale already paid (then its points are clawed back).
 */
import type { Db } from '../../db/sql.js';
import { runInTransaction } from '../../db/savepoint.js';
import * as repo from '../../db/sales/repo.js';
import { audit } from '../../db/audit-repo.js';
import { awardTargets } from './award-targets.js';
import { clawBack } from './claw-back.js';
import { pointsText, releaseAward, saleKey, type SalesArea } from './area.js';
import type { ClawbackShort, DecisionResult } from './types.js';

export type DecideOutcome = { outcome: 'confirmed' | 'rejected' | 'clawed_back' | 'already'; short?: ClawbackShort[] };

/** Applies one verdict to one sale, on the caller's transaction. */
export async function decideSale(
  tx: Db,
  area: SalesArea,
  sale: repo.SaleRow,
  verdict: 'confirm' | 'reject',
  actor: string,
  note?: string,
): Promise<DecideOutcome> {
  const { ledger, notifier } = area;
  const key = saleKey(sale.id);
  const now = area.clock.now();
  if (sale.status === 'pending') {
    if (verdict === 'confirm') {
      await repo.lockTargets(tx, sale.campaignId, sale.participantId, sale.store);
      await ledger.confirmPending(tx, key, { actor });
      await repo.decide(tx, sale.id, { status: 'confirmed', at: now, by: actor, note });
      await awardTargets(tx, area, sale);
      await notifier?.notifyParticipant(tx, sale.participantId, (t) => ({
        text: t('sales:approved_notice', { points: pointsText(t, sale.points), invoice: sale.invoice }),
      }));
      return { outcome: 'confirmed' };
    }
    await ledger.dropPending(tx, key, { actor });
    await repo.decide(tx, sale.id, { status: 'rejected', at: now, by: actor, note });
    await releaseAward(tx, area, sale.campaignId, sale.participantId, sale.points, sale.createdAt);
    await notifier?.notifyParticipant(tx, sale.participantId, (t) => ({
      text: t('sales:rejected_notice', { invoice: sale.invoice }),
    }));
    return { outcome: 'rejected' };
  }
  if (sale.status === 'confirmed' && verdict === 'reject') {
    // Points were paid: take them back (and bonuses the sale completed), or as much as is there.
    await repo.lockTargets(tx, sale.campaignId, sale.participantId, sale.store);
    await repo.decide(tx, sale.id, { status: 'rejected', at: now, by: actor, note });
    // The row as read: its decidedBy tells which ledger key paid the sale.
    const short = await clawBack(tx, area, sale, actor);
    return { outcome: 'clawed_back', short };
  }
  return { outcome: 'already' };
}

/** A manager approves (`confirm`) or rejects a pending sale; a decided one is left as it is. */
export function approveSale(db: Db, area: SalesArea, saleId: string, verdict: 'confirm' | 'reject', actor: string, note?: string): Promise<DecisionResult> {
  return runInTransaction(db, async (tx) => {
    const sale = await repo.getSale(tx, saleId, true);
    if (!sale) return { status: 'not_found' } as const;
    if (sale.status !== 'pending') return { status: 'already_decided', saleStatus: sale.status } as const;
    await decideSale(tx, area, sale, verdict, actor, note);
    await audit(tx, actor, verdict === 'confirm' ? 'sale.approve' : 'sale.reject', `sale:${saleId}`, { note: note ?? null });
    return { status: verdict === 'confirm' ? 'confirmed' : 'rejected', saleId } as const;
  });
}
