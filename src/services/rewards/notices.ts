/** What the rewards area tells people through the outbox: order changes and low-stock alerts. */
import type { Db } from '../../db/sql.js';
import * as rewardsRepo from '../../db/rewards/rewards-repo.js';
import { audit } from '../../db/audit-repo.js';
import { localized, type Order, type Reward } from '../../domain/rewards/index.js';
import type { RewardsArea } from './area.js';
import { money } from './money.js';

/** Tells the participant about a status change in their language; once per order and status. */
export async function tellParticipant(db: Db, area: RewardsArea, order: Order, reward: Reward | undefined, reason?: string | null): Promise<void> {
  await area.enqueueOutbound(db, {
    participantId: order.participantId,
    kind: 'notice',
    dedupeKey: `order:${order.id}:${order.status}`,
    message: (t, locale) => ({
      text: t(`rewards:notice.${order.type}.${order.status}`, {
        reward: reward ? localized(reward.names, locale) : '',
        points: t('common:points', { count: order.points }),
        amount: order.cashAmount == null ? '' : money(locale, order.cashAmount, order.currency),
        tracking: order.tracking ? t('rewards:notice.tracking', { tracking: order.tracking }) : '',
        reason: reason ? t('rewards:notice.reason', { reason }) : '',
      }),
      choices: [[{ label: t('rewards:menu.orders'), value: 'rewards:orders' }]],
    }),
  });
}

/** Alerts managers once when a pool or stock falls to its threshold (re-armed by a refill). */
export async function alertLowStock(db: Db, area: RewardsArea, reward: Reward): Promise<void> {
  const fresh = await rewardsRepo.get(db, reward.id);
  if (!fresh || fresh.stock === null || fresh.stock > fresh.lowStockThreshold) return;
  const at = area.clock.now();
  if (!(await rewardsRepo.markLowStockAlerted(db, reward.id, at))) return;
  await audit(db, 'system', 'reward.low_stock', `reward:${reward.id}`, { left: fresh.stock, type: fresh.type });
  const managers = await area.participants.withRole(db, 'manager', reward.programId);
  for (const m of managers) {
    await area.enqueueOutbound(db, {
      participantId: m.id,
      kind: 'notice',
      dedupeKey: `reward:${reward.id}:low:${at.getTime()}:${m.id}`,
      message: (t, locale) => ({
        text: t(fresh.type === 'e_voucher' ? 'rewards:alert.pool_low' : 'rewards:alert.stock_low', {
          reward: localized(fresh.names, locale),
          count: fresh.stock ?? 0,
        }),
      }),
    });
  }
  area.logger?.warn({ rewardId: reward.id, left: fresh.stock }, 'rewards: stock low, managers alerted');
}
