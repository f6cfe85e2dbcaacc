/**
 * Rewards vocabulary: what a participant can spend points on, and the orders that spending makes.
 * Points are integers; money for cash-outs is in whole units of the program's currency.
 */
import type { Locale, LocaleTag } from '../../shared/locale.js';
import type { ParticipantRole } from '../participants/index.js';

export type RewardType = 'physical' | 'e_voucher' | 'cash_out';
export const REWARD_TYPES: readonly RewardType[] = ['physical', 'e_voucher', 'cash_out'];

/** active: in the catalogue; hidden: kept but not offered; archived: gone for good (orders stay). */
export type RewardStatus = 'active' | 'hidden' | 'archived';

export type Localized = Partial<Record<LocaleTag, string>>;

/** Cash-out / prepaid-card top-up: the participant picks an amount in `step`s between min and max. */
export interface CashOutRule {
  /** ISO 4217, e.g. PLN, EUR, BRL, BYN. */
  currency: string;
  step: number;
  min: number;
  max: number;
}

export interface Reward {
  id: string;
  programId: string;
  type: RewardType;
  status: RewardStatus;
  names: Localized;
  descriptions: Localized;
  imageUrl: string | null;
  /** Points per item; for cash-out, points per one unit of money. */
  cost: number;
  /** Physical: items left, null = unlimited. E-voucher: free codes in the pool (derived). Cash-out: null. */
  stock: number | null;
  availableFrom: Date | null;
  availableUntil: Date | null;
  /** Roles that see it; empty = everyone. */
  roles: ParticipantRole[];
  limitPerParticipant: number | null;
  cashOut: CashOutRule | null;
  lowStockThreshold: number;
  lowStockAlertedAt: Date | null;
  sortOrder: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * ordered: points held, waiting for a manager (physical: to ship; cash-out: to approve the payout).
 * shipped: physical item on its way (points posted). delivered: item received, voucher handed out,
 * or payout made. cancelled: points and stock returned (or a payout rejected).
 */
export type OrderStatus = 'ordered' | 'shipped' | 'delivered' | 'cancelled';
export const ORDER_STATUSES: readonly OrderStatus[] = ['ordered', 'shipped', 'delivered', 'cancelled'];

export type DeliveryDetails =
  | { method: 'address'; name: string; address: string }
  | { method: 'pickup'; name: string; store: string }
  | { method: 'payout'; payout: string }
  | { method: 'none' };

export interface Order {
  id: string;
  programId: string;
  rewardId: string;
  participantId: string;
  requestKey: string;
  type: RewardType;
  status: OrderStatus;
  points: number;
  cashAmount: number | null;
  currency: string | null;
  delivery: DeliveryDetails;
  voucherId: number | null;
  tracking: string | null;
  cancelReason: string | null;
  cancelledBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  shippedAt: Date | null;
  deliveredAt: Date | null;
  cancelledAt: Date | null;
}

/** Why a participant may not order a reward right now. */
export type Unavailable = 'not_available' | 'out_of_stock' | 'limit_reached';
