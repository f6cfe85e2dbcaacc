/**
 * An order's status changes: fulfilment posts the hold, cancellation voids it and returns the
 * stock; both move the order by a conditional status update, so retries and races change it once.
 * Every change a manager makes is told to the participant, on the same transaction.
 */
import type { Db } from '../../db/sql.js';
import { runInTransaction } from '../../db/savepoint.js';
import * as rewardsRepo from '../../db/rewards/rewards-repo.js';
import * as ordersRepo from '../../db/rewards/orders-repo.js';
import { audit } from '../../db/audit-repo.js';
import { canMove, participantMayCancel, postsPoints, type OrderStatus } from '../../domain/rewards/index.js';
import { holdKey, type RewardsArea } from './area.js';
import { tellParticipant } from './notices.js';
import type { ChangeResult } from './types.js';

/** Moves an order (conditional update), posts or voids its hold, returns stock, tells the participant. */
export async function moveOrder(
  db: Db,
  area: RewardsArea,
  orderId: string,
  to: OrderStatus | undefined,
  actor: string,
  extra: { tracking?: string; reason?: string },
  who: 'manager' | 'participant' | 'erasure',
): Promise<ChangeResult> {
  const { ledger } = area;
  const current = await ordersRepo.get(db, orderId);
  if (!current) return { status: 'not_found' };
  const target = to ?? (current.type === 'physical' && current.status === 'shipped' ? 'delivered' : current.type === 'physical' ? 'shipped' : 'delivered');
  if (current.status === target) return { status: 'unchanged', order: current };
  const allowed = who === 'participant' ? target === 'cancelled' && participantMayCancel(current) : canMove(current.type, current.status, target);
  if (!allowed) return { status: 'not_allowed', order: current };
  const at = area.clock.now();
  const moved = await ordersRepo.move(db, orderId, current.status, target, {
    at,
    tracking: extra.tracking ?? null,
    cancelReason: target === 'cancelled' ? (extra.reason ?? null) : null,
    cancelledBy: target === 'cancelled' ? actor : null,
  });
  // Someone else moved it between our read and our update: report what it is now.
  if (!moved) {
    const now = (await ordersRepo.get(db, orderId))!;
    return now.status === target ? { status: 'unchanged', order: now } : { status: 'not_allowed', order: now };
  }
  if (postsPoints(current.status, target)) {
    await ledger.postHold(db, holdKey(orderId), { actor });
  } else if (target === 'cancelled') {
    await ledger.voidHold(db, holdKey(orderId), { actor, reason: { key: 'rewards:ledger.cancelled' } });
    const reward = await rewardsRepo.get(db, moved.rewardId);
    if (reward?.type === 'physical' && reward.stock !== null) await rewardsRepo.returnStock(db, reward.id);
  }
  await ordersRepo.addEvent(db, orderId, target, actor, extra.reason ?? null, at);
  if (who === 'manager') {
    await audit(db, actor, target === 'cancelled' ? 'order.cancel' : 'order.fulfil', `order:${orderId}`, {
      from: current.status,
      to: target,
      ...(extra.reason ? { reason: extra.reason } : {}),
      ...(extra.tracking ? { tracking: extra.tracking } : {}),
    });
    await tellParticipant(db, area, moved, await rewardsRepo.get(db, moved.rewardId), extra.reason);
  }
  return { status: 'changed', order: moved };
}

/** Manager: ship / deliver / approve a payout; `to` defaults to the next step of the order's type. */
export const fulfilOrder = (db: Db, area: RewardsArea, orderId: string, options: { to?: 'shipped' | 'delivered'; tracking?: string }, actor: string) =>
  runInTransaction(db, (tx) => moveOrder(tx, area, orderId, options.to, actor, options.tracking ? { tracking: options.tracking } : {}, 'manager'));

/** Manager: cancel an order (or reject a payout) while its points are only held. */
export const cancelOrder = (db: Db, area: RewardsArea, orderId: string, reason: string, actor: string) =>
  runInTransaction(db, (tx) => moveOrder(tx, area, orderId, 'cancelled', actor, { reason }, 'manager'));

/** The participant cancels their own order while the rules allow it. */
export const cancelOwnOrder = (db: Db, area: RewardsArea, participantId: string, orderId: string) =>
  runInTransaction(db, async (tx): Promise<ChangeResult> => {
    const order = await ordersRepo.get(tx, orderId);
    if (!order || order.participantId !== participantId) return { status: 'not_found' };
    return moveOrder(tx, area, orderId, 'cancelled', `participant:${participantId}`, {}, 'participant');
  });
