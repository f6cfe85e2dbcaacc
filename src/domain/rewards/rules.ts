/**
 * Pure rules of the catalogue: who sees a reward, what it costs, which cash-out amounts exist, and
 * the order lifecycle. No I/O; the service applies them on rows it read inside a transaction.
 */
import { pickLocalized, type Locale } from '../../shared/locale.js';
import type { ParticipantRole } from '../participants/index.js';
import type { CashOutRule, Localized, OrderStatus, Reward, RewardType } from './types.js';

/** Visible in the catalogue for this participant now (stock is checked separately). */
export function isOffered(reward: Reward, role: ParticipantRole | null, now: Date): boolean {
  if (reward.status !== 'active') return false;
  if (reward.availableFrom && reward.availableFrom > now) return false;
  if (reward.availableUntil && reward.availableUntil <= now) return false;
  if (reward.roles.length > 0 && (role === null || !reward.roles.includes(role))) return false;
  return true;
}

/** Text in the reader's language, else the first language that has one. */
export function localized(text: Localized, locale: Locale): string {
  return pickLocalized(text, locale);
}

/** Every amount a participant may ask for: min, min+step, … up to max. */
export function cashOutAmounts(rule: CashOutRule): number[] {
  const out: number[] = [];
  for (let a = rule.min; a <= rule.max && out.length < 200; a += rule.step) out.push(a);
  return out;
}

export function isValidCashOutAmount(rule: CashOutRule, amount: number): boolean {
  return Number.isInteger(amount) && amount >= rule.min && amount <= rule.max && (amount - rule.min) % rule.step === 0;
}

/** Points an order costs: the item's cost, or the amount of money times the points per unit. */
export function orderPoints(reward: Pick<Reward, 'type' | 'cost'>, cashAmount?: number): number {
  return reward.type === 'cash_out' ? reward.cost * (cashAmount ?? 0) : reward.cost;
}

/** The cheapest way in: for a cash-out, the minimum amount. */
export function entryPoints(reward: Pick<Reward, 'type' | 'cost' | 'cashOut'>): number {
  return reward.type === 'cash_out' && reward.cashOut ? reward.cost * reward.cashOut.min : reward.cost;
}

/** Status changes a manager may make, by reward type. */
const NEXT: Record<RewardType, Partial<Record<OrderStatus, OrderStatus[]>>> = {
  physical: { ordered: ['shipped', 'delivered', 'cancelled'], shipped: ['delivered'] },
  e_voucher: {},
  cash_out: { ordered: ['delivered', 'cancelled'] },
};

export function canMove(type: RewardType, from: OrderStatus, to: OrderStatus): boolean {
  return NEXT[type][from]?.includes(to) ?? false;
}

/** The participant may cancel only while nothing has happened yet: the points are still only held. */
export const participantMayCancel = (o: { status: OrderStatus; type: RewardType }): boolean =>
  o.status === 'ordered' && o.type !== 'e_voucher';

/** Points leave for good when an order first moves past `ordered` (not when it is cancelled). */
export const postsPoints = (from: OrderStatus, to: OrderStatus): boolean =>
  from === 'ordered' && (to === 'shipped' || to === 'delivered');
