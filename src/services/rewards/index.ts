/**
 * Rewards: the catalogue managers keep, and orders participants place with their points. One use
 * case per file (place-order, move-order for fulfilment and cancellation, browse-catalogue,
 * import-vouchers, list-orders, forget-participant…); this module binds them to their dependencies.
 */
import * as rewardsRepo from '../../db/rewards/rewards-repo.js';
import * as ordersRepo from '../../db/rewards/orders-repo.js';
import { rewardsArea, voucherCodeOf, type RewardsDeps } from './area.js';
import { quoteOrder, showCatalogue } from './browse-catalogue.js';
import { forgetParticipant } from './forget-participant.js';
import { importVouchers, stockLevels } from './import-vouchers.js';
import { listOrders, ordersOf, shippingCsv } from './list-orders.js';
import { createReward, listRewards, updateReward } from './manage-rewards.js';
import { cancelOrder, cancelOwnOrder, fulfilOrder } from './move-order.js';
import { orderByRequestKey, placeOrder } from './place-order.js';
import type { RewardsService } from './types.js';

export type * from './types.js';
export type { RewardsDeps } from './area.js';
export type { Reward, Order } from '../../domain/rewards/index.js';
export { money } from './money.js';
export { createVoucherCipher, loadVoucherKey, type VoucherCipher } from './voucher-cipher.js';

export function createRewards(deps: RewardsDeps): RewardsService {
  const area = rewardsArea(deps);
  return {
    create: (db, input, actor) => createReward(db, area, input, actor),
    patch: updateReward,
    get: rewardsRepo.get,
    list: (db, filter) => listRewards(db, area, filter),
    importVouchers: (db, rewardId, csv, actor) => importVouchers(db, area, rewardId, csv, actor),
    stockLevels,
    catalogue: (db, participant) => showCatalogue(db, area, participant),
    quote: (db, participant, rewardId, cashAmount) => quoteOrder(db, area, participant, rewardId, cashAmount),
    placeOrder: (db, input) => placeOrder(db, area, input),
    cancelByParticipant: (db, participantId, orderId) => cancelOwnOrder(db, area, participantId, orderId),
    ordersOf,
    getOrder: ordersRepo.get,
    orderByRequestKey: (db, programId, requestKey) => orderByRequestKey(db, area, programId, requestKey),
    voucherCode: (db, orderId) => voucherCodeOf(db, area, orderId),
    listOrders: (db, filter) => listOrders(db, area, filter),
    fulfil: (db, orderId, options, actor) => fulfilOrder(db, area, orderId, options, actor),
    cancel: (db, orderId, reason, actor) => cancelOrder(db, area, orderId, reason, actor),
    shippingCsv: (db, filter, format) => shippingCsv(db, area, filter, format),
    forgetParticipant: (db, participantId) => forgetParticipant(db, area, participantId),
  };
}
