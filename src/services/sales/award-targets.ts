/**
 * After a sale was confirmed: award every target it completed, exactly once. A bonus spends the
 * campaign's caps and budget like a sale does; one they refuse is neither paid nor recorded, so a
 * later sale (or a raised budget) can still pay it.
 */
import type { Db } from '../../db/sql.js';
import { inSavepoint, ROLLBACK } from '../../db/savepoint.js';
import * as campaignsRepo from '../../db/campaigns/repo.js';
import * as repo from '../../db/sales/repo.js';
import type { Campaign } from '../../domain/campaigns/campaign.js';
import type { AwardGate } from '../campaigns/index.js';
import { bonusKey, pointsText, type SalesArea } from './area.js';

export interface AwardedBonus {
  targetId: string;
  points: number;
  participantId: string;
}

export async function awardTargets(
  db: Db,
  area: SalesArea,
  sale: { campaignId: string; participantId: string; store: string | null; programId: string },
): Promise<AwardedBonus[]> {
  const { campaignId, participantId, store, programId } = sale;
  const bonuses: AwardedBonus[] = [];
  let campaign: Campaign | undefined;
  for (const t of await repo.targetsFor(db, [campaignId], participantId, store)) {
    if (t.bonusPoints <= 0) continue;
    const done = await repo.targetDone(db, t);
    if (done < t.goal) continue;
    campaign ??= (await campaignsRepo.getCampaign(db, campaignId))!;
    const c = campaign;
    const who = t.store ? await repo.storeContributors(db, t) : [participantId];
    for (const pid of who) {
      let refused: AwardGate | undefined;
      const paid = await inSavepoint(db, async (sp) => {
        const generation = await repo.claimTargetAward(sp, t.id, pid, t.bonusPoints, area.clock.now());
        if (generation === undefined) return false;
        const gate = await area.campaigns.reserveAward(sp, c, pid, t.bonusPoints);
        if (gate.status !== 'ok') {
          refused = gate;
          throw ROLLBACK;
        }
        await area.ledger.earn(sp, {
            programId,
            participantId: pid,
            amount: t.bonusPoints,
            source: 'bonus',
            key: bonusKey(t.id, pid, generation),
            campaignId,
            reason: { key: 'sales:reason_target', params: { goal: t.goal, metric: t.metric } },
          });
        return true;
      });
      if (refused) {
        if (refused.status === 'budget_exhausted') await area.campaigns.budgetExhausted(db, c);
        area.logger?.info({ targetId: t.id, participantId: pid, gate: refused.status }, 'target bonus withheld by campaign limits');
        continue;
      }
      if (!paid) continue;
      bonuses.push({ targetId: t.id, points: t.bonusPoints, participantId: pid });
      if (pid !== participantId) {
        await area.notifier?.notifyParticipant(db, pid, (tr) => ({
          text: tr('sales:target_reached_store', { points: pointsText(tr, t.bonusPoints), goal: t.goal }),
        }));
      }
    }
  }
  return bonuses;
}
