/** What a participant sees in the chat's catalogue, and whether they can order a reward now. */
import type { Db } from '../../db/sql.js';
import * as rewardsRepo from '../../db/rewards/rewards-repo.js';
import * as ordersRepo from '../../db/rewards/orders-repo.js';
import type { Participant } from '../../domain/participants/index.js';
import { entryPoints, isOffered, isValidCashOutAmount, orderPoints } from '../../domain/rewards/index.js';
import type { RewardsArea } from './area.js';
import type { CatalogueItem, QuoteResult } from './types.js';

export async function showCatalogue(db: Db, area: RewardsArea, participant: Participant): Promise<{ items: CatalogueItem[]; available: number }> {
  const now = area.clock.now();
  const all = await rewardsRepo.list(db, participant.programId, { status: 'active' });
  const { available } = await area.ledger.balance(db, participant.programId, participant.id);
  const items: CatalogueItem[] = [];
  for (const reward of all.filter((r) => isOffered(r, participant.role, now))) {
    const points = entryPoints(reward);
    const item: CatalogueItem = { reward, points, missing: Math.max(0, points - available) };
    if (reward.stock !== null && reward.stock <= 0) item.blocked = 'out_of_stock';
    else if (reward.limitPerParticipant !== null && (await ordersRepo.countActive(db, reward.id, participant.id)) >= reward.limitPerParticipant) {
      item.blocked = 'limit_reached';
    }
    items.push(item);
  }
  return { items, available };
}

/** Can they order it now? Nothing is held. */
export async function quoteOrder(db: Db, area: RewardsArea, participant: Participant, rewardId: string, cashAmount?: number): Promise<QuoteResult> {
  const reward = await rewardsRepo.get(db, rewardId);
  if (!reward || reward.programId !== participant.programId || !isOffered(reward, participant.role, area.clock.now())) {
    return { status: 'not_available' };
  }
  if (reward.type === 'cash_out' && (cashAmount === undefined || !isValidCashOutAmount(reward.cashOut!, cashAmount))) {
    return { status: 'invalid_amount', reward };
  }
  if (reward.stock !== null && reward.stock <= 0) return { status: 'out_of_stock', reward };
  if (reward.limitPerParticipant !== null) {
    const used = await ordersRepo.countActive(db, reward.id, participant.id);
    if (used >= reward.limitPerParticipant) return { status: 'limit_reached', reward, limit: reward.limitPerParticipant };
  }
  const points = orderPoints(reward, cashAmount);
  const { available } = await area.ledger.balance(db, participant.programId, participant.id);
  if (available < points) return { status: 'insufficient', reward, points, available, missing: points - available };
  return { status: 'ok', reward, points, available, balanceAfter: available - points };
}
