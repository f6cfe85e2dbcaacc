/**
 * Erasure of a participant in the rewards area: what is still open is closed first (an order whose
 * points are only held is cancelled, so the hold goes back and a physical item returns to stock),
 * then every order drops its delivery and payout details. The orders stay, anonymous, for stock
 * and the ledger's history.
 */
import type { Db } from '../../db/sql.js';
import * as ordersRepo from '../../db/rewards/orders-repo.js';
import type { RewardsArea } from './area.js';
import { moveOrder } from './move-order.js';

export async function forgetParticipant(db: Db, area: RewardsArea, participantId: string): Promise<number> {
  for (const id of await ordersRepo.openOrderIds(db, participantId)) {
    await moveOrder(db, area, id, 'cancelled', 'erasure', { reason: 'erasure' }, 'erasure');
  }
  return ordersRepo.forgetDelivery(db, participantId, area.clock.now());
}
