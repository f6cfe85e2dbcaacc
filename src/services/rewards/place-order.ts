/**
 * Placing an order is one savepoint on the caller's transaction (the chat message's): the order
 * row (unique request key: a double-tapped confirm finds the first order), a ledger hold
 * `order:<id>:hold`, then the stock (`stock > 0` conditional update) or a pool code (`for update
 * skip locked`). If any step says no, the savepoint rolls back: nothing is held, nothing reserved.
 */
import type { Db } from '../../db/sql.js';
import { runInTransaction } from '../../db/savepoint.js';
import * as rewardsRepo from '../../db/rewards/rewards-repo.js';
import * as ordersRepo from '../../db/rewards/orders-repo.js';
import type { Order } from '../../domain/rewards/index.js';
import { holdKey, reasonFor, voucherCodeOf, type RewardsArea } from './area.js';
import { quoteOrder } from './browse-catalogue.js';
import { alertLowStock } from './notices.js';
import type { PlaceInput, PlaceResult } from './types.js';

type Duplicate = Extract<PlaceResult, { status: 'duplicate' }>;

/** Thrown inside the order savepoint to undo it; carries the answer for the participant. */
class Refused extends Error {
  constructor(readonly result: PlaceResult) {
    super(result.status);
  }
}

/** The answer for an order placed before under the same request key. */
async function duplicateOf(db: Db, area: RewardsArea, order: Order): Promise<Duplicate> {
  const reward = (await rewardsRepo.get(db, order.rewardId))!;
  const code = order.type === 'e_voucher' ? await voucherCodeOf(db, area, order.id) : undefined;
  return code === undefined ? { status: 'duplicate', order, reward } : { status: 'duplicate', order, reward, voucherCode: code };
}

export async function orderByRequestKey(db: Db, area: RewardsArea, programId: string, requestKey: string): Promise<Duplicate | undefined> {
  const order = await ordersRepo.byRequestKey(db, programId, requestKey);
  return order ? duplicateOf(db, area, order) : undefined;
}

export function placeOrder(db: Db, area: RewardsArea, input: PlaceInput): Promise<PlaceResult> {
  return runInTransaction(db, (tx) => place(tx, area, input));
}

async function place(tx: Db, area: RewardsArea, input: PlaceInput): Promise<PlaceResult> {
  const { ledger, cipher } = area;
  const { participant } = input;
  const previous = await ordersRepo.byRequestKey(tx, participant.programId, input.requestKey);
  if (previous) return duplicateOf(tx, area, previous);

  const reward = await rewardsRepo.get(tx, input.rewardId);
  if (reward?.limitPerParticipant != null) await ordersRepo.lockParticipantReward(tx, reward.id, participant.id);
  const q = await quoteOrder(tx, area, participant, input.rewardId, input.cashAmount);
  if (q.status !== 'ok') return q;
  const r = q.reward;
  const at = area.clock.now();

  let result: PlaceResult;
  try {
    result = await (tx as Db & { savepoint: <T>(fn: (sp: Db) => Promise<T>) => Promise<T> }).savepoint(async (sp) => {
      const order = await ordersRepo.insert(sp, {
        programId: participant.programId,
        rewardId: r.id,
        participantId: participant.id,
        requestKey: input.requestKey,
        type: r.type,
        points: q.points,
        cashAmount: r.type === 'cash_out' ? input.cashAmount! : null,
        currency: r.type === 'cash_out' ? r.cashOut!.currency : null,
        delivery: input.delivery,
        at,
      });
      // A concurrent twin of this request committed first: its order stands.
      if (!order) throw new Refused(await duplicateOf(sp, area, (await ordersRepo.byRequestKey(sp, participant.programId, input.requestKey))!));

      const held = await ledger.hold(sp, { programId: participant.programId, participantId: participant.id, amount: q.points, key: holdKey(order.id), reason: reasonFor(r), actor: `participant:${participant.id}` });
      if (held.status === 'insufficient') {
        throw new Refused({ status: 'insufficient', reward: r, points: q.points, available: held.available, missing: q.points - held.available });
      }

      let voucherCode: string | undefined;
      let final = order;
      if (r.type === 'physical' && r.stock !== null) {
        if (!(await rewardsRepo.takeStock(sp, r.id))) throw new Refused({ status: 'out_of_stock', reward: r });
      } else if (r.type === 'e_voucher') {
        const voucher = await rewardsRepo.takeVoucher(sp, r.id, order.id, at);
        if (!voucher) throw new Refused({ status: 'out_of_stock', reward: r });
        await ordersRepo.setVoucher(sp, order.id, voucher.id);
        await ledger.postHold(sp, holdKey(order.id), { actor: 'system' });
        final = (await ordersRepo.move(sp, order.id, 'ordered', 'delivered', { at }))!;
        voucherCode = cipher.decrypt(voucher.codeEnc);
      }
      await ordersRepo.addEvent(sp, order.id, 'ordered', `participant:${participant.id}`, null, at);
      if (final.status !== 'ordered') await ordersRepo.addEvent(sp, order.id, final.status, 'system', null, at);
      const placed: PlaceResult = { status: 'placed', order: final, reward: r, balanceAfter: q.available - q.points };
      return voucherCode === undefined ? placed : { ...placed, voucherCode };
    });
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    result = error.result;
  }
  // outside the savepoint: an alert is due whether or not this order got the last unit
  if (r.stock !== null) await alertLowStock(tx, area, r);
  return result;
}
