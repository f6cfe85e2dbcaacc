/** The rewards area's vocabulary: what its use cases take and answer. */
import type { Db } from '../../db/sql.js';
import type { OrderRow } from '../../db/rewards/orders-repo.js';
import type { Participant } from '../../domain/participants/index.js';
import type { DeliveryDetails, Order, OrderStatus, Reward } from '../../domain/rewards/index.js';
import type { OrderFilter, RewardCreateInput, RewardPatchInput } from '../../domain/rewards/schema.js';
import type { CsvFormat } from '../../shared/csv.js';

export interface CatalogueItem {
  reward: Reward;
  /** Points the cheapest order of it costs (cash-out: the minimum amount). */
  points: number;
  /** Points still missing to order it now; 0 = affordable. */
  missing: number;
  /** Out of stock / limit reached for this participant; undefined = orderable. */
  blocked?: 'out_of_stock' | 'limit_reached';
}

export type QuoteResult =
  | { status: 'ok'; reward: Reward; points: number; available: number; balanceAfter: number }
  | { status: 'not_available' }
  | { status: 'out_of_stock'; reward: Reward }
  | { status: 'limit_reached'; reward: Reward; limit: number }
  | { status: 'invalid_amount'; reward: Reward }
  | { status: 'insufficient'; reward: Reward; points: number; available: number; missing: number };

export type PlaceResult =
  | { status: 'placed'; order: Order; reward: Reward; balanceAfter: number; voucherCode?: string }
  /** The same request key again (a double tap): the first order, nothing new. */
  | { status: 'duplicate'; order: Order; reward: Reward; voucherCode?: string }
  | Exclude<QuoteResult, { status: 'ok' }>;

export interface PlaceInput {
  participant: Participant;
  rewardId: string;
  /** Unique per participant request (carried in the chat's confirm button). */
  requestKey: string;
  cashAmount?: number;
  delivery: DeliveryDetails;
}

export type ChangeResult =
  | { status: 'changed'; order: Order }
  /** Already there (a retry): nothing happened again. */
  | { status: 'unchanged'; order: Order }
  | { status: 'not_allowed'; order: Order }
  | { status: 'not_found' };

export interface ParticipantOrder extends Order {
  rewardNames: Record<string, string>;
}

export interface VoucherImportResult {
  imported: number;
  /** Already in the pool (same code imported before). */
  alreadyInPool: number;
  duplicatesInFile: number;
  emptyLines: number[];
  free: number;
}

export interface StockLevels {
  rewardId: string;
  type: Reward['type'];
  /** Physical: items left (null = unlimited); e-voucher: free codes. */
  stock: number | null;
  lowStockThreshold: number;
  low: boolean;
  vouchers?: { free: number; assigned: number; imports: number };
  orders: Record<OrderStatus, number>;
}

export interface RewardsService {
  create(db: Db, input: RewardCreateInput, actor: string): Promise<Reward>;
  patch(db: Db, id: string, input: RewardPatchInput, actor: string): Promise<Reward>;
  get(db: Db, id: string): Promise<Reward | undefined>;
  list(db: Db, filter?: { status?: Reward['status']; type?: Reward['type'] }): Promise<Reward[]>;
  importVouchers(db: Db, rewardId: string, csv: string, actor: string): Promise<VoucherImportResult>;
  stockLevels(db: Db, rewardId: string): Promise<StockLevels>;

  /** What this participant sees in the chat now, with what they can afford. */
  catalogue(db: Db, participant: Participant): Promise<{ items: CatalogueItem[]; available: number }>;
  /** Can they order it now? Nothing is held. */
  quote(db: Db, participant: Participant, rewardId: string, cashAmount?: number): Promise<QuoteResult>;
  placeOrder(db: Db, input: PlaceInput): Promise<PlaceResult>;
  cancelByParticipant(db: Db, participantId: string, orderId: string): Promise<ChangeResult>;
  ordersOf(db: Db, participantId: string, options?: { limit?: number; offset?: number }): Promise<{ items: ParticipantOrder[]; total: number }>;
  getOrder(db: Db, id: string): Promise<Order | undefined>;
  orderByRequestKey(db: Db, programId: string, requestKey: string): Promise<Extract<PlaceResult, { status: 'duplicate' }> | undefined>;
  /** The voucher code handed to an order (decrypted), for "my orders". */
  voucherCode(db: Db, orderId: string): Promise<string | undefined>;

  listOrders(db: Db, filter: OrderFilter): Promise<{ items: OrderRow[]; total: number; nextCursor: string | null }>;
  /** Manager: ship / deliver / approve a payout. `to` defaults to the next step of the order's type. */
  fulfil(db: Db, orderId: string, options: { to?: 'shipped' | 'delivered'; tracking?: string }, actor: string): Promise<ChangeResult>;
  /** Manager: cancel an order (or reject a payout) while its points are only held. */
  cancel(db: Db, orderId: string, reason: string, actor: string): Promise<ChangeResult>;
  /** Physical orders as CSV for the warehouse (default: those waiting to ship). */
  shippingCsv(db: Db, filter: Partial<OrderFilter>, format?: CsvFormat): Promise<string>;
  /**
   * Erasure: cancels the participant's open orders (their held points go back), then drops the
   * delivery/payout details of every order (the orders stay, anonymous).
   */
  forgetParticipant(db: Db, participantId: string): Promise<number>;
}

