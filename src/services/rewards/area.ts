/** What the rewards use cases share: their dependencies, ledger keys and small lookups. */
import type { Db } from '../../db/sql.js';
import * as rewardsRepo from '../../db/rewards/rewards-repo.js';
import { LOCALES } from '../../i18n/index.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { localized, type Reward } from '../../domain/rewards/index.js';
import type { Ledger } from '../ledger/index.js';
import type { EnqueueOutbound } from '../outbox/index.js';
import type { ParticipantsService } from '../participants/index.js';
import type { VoucherCipher } from './voucher-cipher.js';

export interface RewardsDeps {
  ledger: Ledger;
  participants: ParticipantsService;
  enqueueOutbound: EnqueueOutbound;
  cipher: VoucherCipher;
  clock?: Clock;
  logger?: Logger;
}

export interface RewardsArea extends RewardsDeps {
  clock: Clock;
}

export const rewardsArea = (deps: RewardsDeps): RewardsArea => ({ ...deps, clock: deps.clock ?? systemClock });

/** The ledger hold of an order's points, posted on fulfilment and voided on cancellation. */
export const holdKey = (orderId: string) => `order:${orderId}:hold`;

/** Every language's name: the history is read later, in whatever language the reader has then. */
export const reasonFor = (reward: Reward) => ({
  key: 'rewards:ledger.order',
  params: { name: Object.fromEntries(LOCALES.map((l) => [l, localized(reward.names, l)])) },
});

export async function mustGetReward(db: Db, id: string): Promise<Reward> {
  const r = await rewardsRepo.get(db, id);
  if (!r) throw new AppError('not_found', `Reward ${id} not found`);
  return r;
}

/** The voucher code handed to an order, decrypted. */
export async function voucherCodeOf(db: Db, area: RewardsArea, orderId: string): Promise<string | undefined> {
  const v = await rewardsRepo.voucherOf(db, orderId);
  return v ? area.cipher.decrypt(v.codeEnc) : undefined;
}
