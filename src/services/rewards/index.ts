/**
 * Rewards: the catalogue managers keep, and orders participants place with their points.
 *
 * Placing an order is one savepoint on the caller's transaction (the chat message's): the order
 * row (unique request key: a double-tapped confirm finds the first order), a ledger hold
 * `order:<id>:hold`, then the stock (`stock > 0` conditional update) or a pool code (`for update
 * skip locked`). If any step says no, the savepoint rolls back: nothing is held, nothing reserved.
 * Fulfilment posts the hold, cancellation voids it and returns the stock; both move the order by a
 * conditional status update, so retries and races change it once. Every status change a manager
 * makes is told to the participant in their language through the outbox, on the same transaction.
 */
import type { Db, Sql } from '../../db/sql.js';
import { withTransaction } from '../../db/sql.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { newId } from '../../shared/ids.js';
import type { Ledger } from '../ledger/index.js';
import type { EnqueueOutbound } from '../participants/outbox.js';
import type { ParticipantsService } from '../participants/index.js';
import type { Participant } from '../../domain/participants/index.js';
import type { Locale } from '../../i18n/index.js';
import { formatNumber, LOCALES } from '../../i18n/index.js';
import * as rewardsRepo from '../../db/rewards/rewards-repo.js';
import * as ordersRepo from '../../db/rewards/orders-repo.js';
import {
  canMove,
  entryPoints,
  isOffered,
  isValidCashOutAmount,
  localized,
  orderPoints,
  participantMayCancel,
  postsPoints,
  type DeliveryDetails,
  type Order,
  type OrderStatus,
  type Reward,
} from '../../domain/rewards/index.js';
import type { OrderFilter, RewardCreateInput, RewardPatchInput } from '../../domain/rewards/schema.js';
import { parseVoucherCsv, toCsv } from '../../domain/rewards/csv.js';
import type { VoucherCipher } from './voucher-cipher.js';
import { audit } from '../../db/audit-repo.js';

export type { Reward, Order } from '../../domain/rewards/index.js';
export { createVoucherCipher, loadVoucherKey, type VoucherCipher } from './voucher-cipher.js';

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
  create(input: RewardCreateInput, actor: string): Promise<Reward>;
  patch(id: string, input: RewardPatchInput, actor: string): Promise<Reward>;
  get(id: string, db?: Db): Promise<Reward | undefined>;
  list(filter?: { status?: Reward['status']; type?: Reward['type'] }): Promise<Reward[]>;
  importVouchers(rewardId: string, csv: string, actor: string): Promise<VoucherImportResult>;
  stockLevels(rewardId: string): Promise<StockLevels>;

  /** What this participant sees in the chat now, with what they can afford. */
  catalogue(db: Db, participant: Participant): Promise<{ items: CatalogueItem[]; available: number }>;
  /** Can they order it now? Nothing is held. */
  quote(db: Db, participant: Participant, rewardId: string, cashAmount?: number): Promise<QuoteResult>;
  placeOrder(db: Db, input: PlaceInput): Promise<PlaceResult>;
  cancelByParticipant(db: Db, participantId: string, orderId: string): Promise<ChangeResult>;
  ordersOf(db: Db, participantId: string, options?: { limit?: number; offset?: number }): Promise<{ items: ParticipantOrder[]; total: number }>;
  getOrder(id: string, db?: Db): Promise<Order | undefined>;
  orderByRequestKey(db: Db, programId: string, requestKey: string): Promise<Extract<PlaceResult, { status: 'duplicate' }> | undefined>;
  /** The voucher code handed to an order (decrypted), for "my orders". */
  voucherCode(db: Db, orderId: string): Promise<string | undefined>;

  listOrders(filter: OrderFilter): Promise<{ items: ordersRepo.OrderRow[]; total: number; nextCursor: string | null }>;
  /** Manager: ship / deliver / approve a payout. `to` defaults to the next step of the order's type. */
  fulfil(orderId: string, options: { to?: 'shipped' | 'delivered'; tracking?: string }, actor: string): Promise<ChangeResult>;
  /** Manager: cancel an order (or reject a payout) while its points are only held. */
  cancel(orderId: string, reason: string, actor: string): Promise<ChangeResult>;
  /** Physical orders as CSV for the warehouse (default: those waiting to ship). */
  shippingCsv(filter: Partial<OrderFilter>): Promise<string>;
  /** Erasure: drops the delivery/payout details of a participant's orders (the orders stay, anonymous). */
  forgetParticipant(db: Db, participantId: string): Promise<number>;
}

export interface RewardsDeps {
  sql: Sql;
  ledger: Ledger;
  participants: ParticipantsService;
  enqueueOutbound: EnqueueOutbound;
  cipher: VoucherCipher;
  clock?: Clock;
  logger?: Logger;
}

/** Thrown inside the order savepoint to undo it; carries the answer for the participant. */
class Refused extends Error {
  constructor(readonly result: PlaceResult) {
    super(result.status);
  }
}

const inTransaction = (db: Db): boolean => typeof (db as { savepoint?: unknown }).savepoint === 'function';

export function createRewards(deps: RewardsDeps): RewardsService {
  const { sql, ledger, cipher } = deps;
  const clock = deps.clock ?? systemClock;

  const holdKey = (orderId: string) => `order:${orderId}:hold`;
  // Every language's name: the history is read later, in whatever language the reader has then.
  const reasonFor = (reward: Reward) => ({
    key: 'rewards:ledger.order',
    params: { name: Object.fromEntries(LOCALES.map((l) => [l, localized(reward.names, l)])) },
  });

  async function mustGet(db: Db, id: string): Promise<Reward> {
    const r = await rewardsRepo.get(db, id);
    if (!r) throw new AppError('not_found', `Reward ${id} not found`);
    return r;
  }

  /** Tells the participant about a status change in their language; once per order and status. */
  async function tellParticipant(db: Db, order: Order, reward: Reward | undefined, reason?: string | null): Promise<void> {
    await deps.enqueueOutbound(db, {
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
  async function checkLowStock(db: Db, reward: Reward): Promise<void> {
    const fresh = await rewardsRepo.get(db, reward.id);
    if (!fresh || fresh.stock === null || fresh.stock > fresh.lowStockThreshold) return;
    const at = clock.now();
    if (!(await rewardsRepo.markLowStockAlerted(db, reward.id, at))) return;
    await audit(db, 'system', 'reward.low_stock', `reward:${reward.id}`, { left: fresh.stock, type: fresh.type });
    const managers = await deps.participants.withRole('manager', reward.programId, db);
    for (const m of managers) {
      await deps.enqueueOutbound(db, {
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
    deps.logger?.warn({ rewardId: reward.id, left: fresh.stock }, 'rewards: stock low, managers alerted');
  }

  async function quote(db: Db, participant: Participant, rewardId: string, cashAmount?: number): Promise<QuoteResult> {
    const reward = await rewardsRepo.get(db, rewardId);
    if (!reward || reward.programId !== participant.programId || !isOffered(reward, participant.role, clock.now())) {
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
    const { available } = await ledger.balance(participant.programId, participant.id, db);
    if (available < points) return { status: 'insufficient', reward, points, available, missing: points - available };
    return { status: 'ok', reward, points, available, balanceAfter: available - points };
  }

  async function place(tx: Db, input: PlaceInput): Promise<PlaceResult> {
    const { participant } = input;
    const previous = await ordersRepo.byRequestKey(tx, participant.programId, input.requestKey);
    if (previous) return duplicate(tx, previous);

    const reward = await rewardsRepo.get(tx, input.rewardId);
    if (reward?.limitPerParticipant != null) await ordersRepo.lockParticipantReward(tx, reward.id, participant.id);
    const q = await quote(tx, participant, input.rewardId, input.cashAmount);
    if (q.status !== 'ok') return q;
    const r = q.reward;
    const at = clock.now();

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
        if (!order) throw new Refused(await duplicate(sp, (await ordersRepo.byRequestKey(sp, participant.programId, input.requestKey))!));

        const held = await ledger.hold(
          { programId: participant.programId, participantId: participant.id, amount: q.points, key: holdKey(order.id), reason: reasonFor(r), actor: `participant:${participant.id}` },
          sp,
        );
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
          await ledger.postHold(holdKey(order.id), { actor: 'system' }, sp);
          final = (await ordersRepo.move(sp, order.id, 'ordered', 'delivered', { at }))!;
          voucherCode = cipher.decrypt(voucher.codeEnc);
        }
        await ordersRepo.addEvent(sp, order.id, 'ordered', `participant:${participant.id}`, null, at);
        if (final.status !== 'ordered') await ordersRepo.addEvent(sp, order.id, final.status, 'system', null, at);
        const result: PlaceResult = { status: 'placed', order: final, reward: r, balanceAfter: q.available - q.points };
        return voucherCode === undefined ? result : { ...result, voucherCode };
      });
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      result = error.result;
    }
    // outside the savepoint: an alert is due whether or not this order got the last unit
    if (r.stock !== null) await checkLowStock(tx, r);
    return result;
  }

  async function duplicate(db: Db, order: Order): Promise<PlaceResult> {
    const reward = (await rewardsRepo.get(db, order.rewardId))!;
    const code = order.type === 'e_voucher' ? await voucherCodeOf(db, order.id) : undefined;
    return code === undefined ? { status: 'duplicate', order, reward } : { status: 'duplicate', order, reward, voucherCode: code };
  }

  async function voucherCodeOf(db: Db, orderId: string): Promise<string | undefined> {
    const v = await rewardsRepo.voucherOf(db, orderId);
    return v ? cipher.decrypt(v.codeEnc) : undefined;
  }

  /** Moves an order (conditional update), posts or voids its hold, returns stock, tells the participant. */
  async function change(
    db: Db,
    orderId: string,
    to: OrderStatus | undefined,
    actor: string,
    extra: { tracking?: string; reason?: string },
    who: 'manager' | 'participant',
  ): Promise<ChangeResult> {
    const current = await ordersRepo.get(db, orderId);
    if (!current) return { status: 'not_found' };
    const target = to ?? (current.type === 'physical' && current.status === 'shipped' ? 'delivered' : current.type === 'physical' ? 'shipped' : 'delivered');
    if (current.status === target) return { status: 'unchanged', order: current };
    const allowed = who === 'participant' ? target === 'cancelled' && participantMayCancel(current) : canMove(current.type, current.status, target);
    if (!allowed) return { status: 'not_allowed', order: current };
    const at = clock.now();
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
      await ledger.postHold(holdKey(orderId), { actor }, db);
    } else if (target === 'cancelled') {
      await ledger.voidHold(holdKey(orderId), { actor, reason: { key: 'rewards:ledger.cancelled' } }, db);
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
      await tellParticipant(db, moved, await rewardsRepo.get(db, moved.rewardId), extra.reason);
    }
    return { status: 'changed', order: moved };
  }

  function toWrite(input: RewardCreateInput, base?: Reward): rewardsRepo.RewardWrite {
    return {
      type: input.type,
      status: input.status ?? base?.status ?? 'active',
      names: input.name,
      descriptions: input.description ?? base?.descriptions ?? {},
      imageUrl: input.imageUrl !== undefined ? input.imageUrl : (base?.imageUrl ?? null),
      cost: input.cost,
      stock: input.type === 'physical' ? (input.stock !== undefined ? input.stock : (base?.stock ?? null)) : null,
      availableFrom: input.availableFrom !== undefined ? input.availableFrom : (base?.availableFrom ?? null),
      availableUntil: input.availableUntil !== undefined ? input.availableUntil : (base?.availableUntil ?? null),
      roles: input.roles ?? base?.roles ?? [],
      limitPerParticipant: input.limitPerParticipant !== undefined ? input.limitPerParticipant : (base?.limitPerParticipant ?? null),
      cashOut: input.cashOut ?? base?.cashOut ?? null,
      lowStockThreshold: input.lowStockThreshold ?? base?.lowStockThreshold ?? 10,
      sortOrder: input.sortOrder ?? base?.sortOrder ?? 0,
    };
  }

  const runIn = <T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> =>
    inTransaction(db) ? fn(db) : withTransaction(db as Sql, (tx) => fn(tx));

  return {
    async create(input, actor) {
      return withTransaction(sql, async (tx) => {
        const programId = await deps.participants.defaultProgramId(tx);
        const reward = await rewardsRepo.insert(tx, programId, toWrite(input));
        await audit(tx, actor, 'reward.create', `reward:${reward.id}`, { type: reward.type, cost: reward.cost, stock: reward.stock });
        return reward;
      });
    },

    async patch(id, input, actor) {
      return withTransaction(sql, async (tx) => {
        const base = await rewardsRepo.lock(tx, id);
        if (!base) throw new AppError('not_found', `Reward ${id} not found`);
        if (base.type !== 'physical' && (input.stock != null || input.stockDelta !== undefined)) {
          throw new AppError('invalid_input', 'Only physical rewards have a stock; e-voucher stock is its code pool');
        }
        if (base.type !== 'cash_out' && input.cashOut) throw new AppError('invalid_input', 'Only cash-out rewards take cashOut');
        const { stockDelta, ...rest } = input;
        const merged = { type: base.type, name: base.names, cost: base.cost, ...rest } as RewardCreateInput;
        const write = toWrite(merged, base);
        if (base.type === 'e_voucher') write.stock = null;
        if (write.availableFrom && write.availableUntil && write.availableUntil <= write.availableFrom) {
          throw new AppError('invalid_input', 'availableUntil must be after availableFrom');
        }
        await rewardsRepo.update(tx, id, write);
        if (stockDelta !== undefined) {
          if (base.stock === null) throw new AppError('invalid_input', 'This reward has unlimited stock; set stock first');
          const left = await rewardsRepo.addStock(tx, id, stockDelta);
          if (left === undefined) throw new AppError('conflict', `Only ${base.stock} left; cannot remove ${-stockDelta}`);
        }
        await audit(tx, actor, 'reward.update', `reward:${id}`, { fields: Object.keys(input) });
        return mustGet(tx, id);
      });
    },

    get: (id, db = sql) => rewardsRepo.get(db, id),

    async list(filter = {}) {
      return rewardsRepo.list(sql, await deps.participants.defaultProgramId(), filter);
    },

    async importVouchers(rewardId, csv, actor) {
      const parsed = parseVoucherCsv(csv);
      if (parsed.codes.some((c) => c.length > 200)) throw new AppError('invalid_input', 'A voucher code is longer than 200 characters');
      return withTransaction(sql, async (tx) => {
        const reward = await rewardsRepo.lock(tx, rewardId);
        if (!reward) throw new AppError('not_found', `Reward ${rewardId} not found`);
        if (reward.type !== 'e_voucher') throw new AppError('invalid_input', 'Voucher codes go to e-voucher rewards only');
        const importId = newId();
        let imported = 0;
        for (let i = 0; i < parsed.codes.length; i += 1000) {
          const chunk = parsed.codes.slice(i, i + 1000).map((c) => ({ enc: cipher.encrypt(c), hash: cipher.hash(c) }));
          imported += await rewardsRepo.insertVouchers(tx, rewardId, importId, chunk);
        }
        const levels = await rewardsRepo.poolLevels(tx, rewardId);
        if (levels.free > reward.lowStockThreshold) await rewardsRepo.clearLowStockAlert(tx, rewardId);
        await audit(tx, actor, 'reward.vouchers_import', `reward:${rewardId}`, {
          importId,
          imported,
          alreadyInPool: parsed.codes.length - imported,
          free: levels.free,
        });
        return {
          imported,
          alreadyInPool: parsed.codes.length - imported,
          duplicatesInFile: parsed.duplicatesInFile,
          emptyLines: parsed.emptyLines,
          free: levels.free,
        };
      });
    },

    async stockLevels(rewardId) {
      const reward = await mustGet(sql, rewardId);
      const counts = await sql<{ status: OrderStatus; n: number }[]>`
        select status, count(*)::int as n from reward_orders where reward_id = ${rewardId} group by status`;
      const orders = { ordered: 0, shipped: 0, delivered: 0, cancelled: 0 } as Record<OrderStatus, number>;
      for (const c of counts) orders[c.status] = c.n;
      const levels: StockLevels = {
        rewardId,
        type: reward.type,
        stock: reward.stock,
        lowStockThreshold: reward.lowStockThreshold,
        low: reward.stock !== null && reward.stock <= reward.lowStockThreshold,
        orders,
      };
      if (reward.type === 'e_voucher') levels.vouchers = await rewardsRepo.poolLevels(sql, rewardId);
      return levels;
    },

    async catalogue(db, participant) {
      const now = clock.now();
      const all = await rewardsRepo.list(db, participant.programId, { status: 'active' });
      const { available } = await ledger.balance(participant.programId, participant.id, db);
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
    },

    quote,

    placeOrder: (db, input) => runIn(db, (tx) => place(tx, input)),

    cancelByParticipant: (db, participantId, orderId) =>
      runIn(db, async (tx) => {
        const order = await ordersRepo.get(tx, orderId);
        if (!order || order.participantId !== participantId) return { status: 'not_found' } as const;
        return change(tx, orderId, 'cancelled', `participant:${participantId}`, {}, 'participant');
      }),

    async ordersOf(db, participantId, options = {}) {
      const limit = Math.min(Math.max(options.limit ?? 5, 1), 50);
      const items = await ordersRepo.ofParticipant(db, participantId, limit, options.offset ?? 0);
      return { items, total: await ordersRepo.countOfParticipant(db, participantId) };
    },

    getOrder: (id, db = sql) => ordersRepo.get(db, id),
    async orderByRequestKey(db, programId, requestKey) {
      const order = await ordersRepo.byRequestKey(db, programId, requestKey);
      return order ? ((await duplicate(db, order)) as Extract<PlaceResult, { status: 'duplicate' }>) : undefined;
    },
    voucherCode: (db, orderId) => voucherCodeOf(db, orderId),

    async listOrders(filter) {
      return ordersRepo.list(sql, await deps.participants.defaultProgramId(), filter);
    },

    fulfil: (orderId, options, actor) =>
      withTransaction(sql, (tx) => change(tx, orderId, options.to, actor, options.tracking ? { tracking: options.tracking } : {}, 'manager')),

    cancel: (orderId, reason, actor) => withTransaction(sql, (tx) => change(tx, orderId, 'cancelled', actor, { reason }, 'manager')),

    async shippingCsv(filter) {
      const { limit: _limit, offset: _offset, ...rest } = filter;
      const rows: unknown[][] = [
        ['order_id', 'ordered_at', 'status', 'reward', 'points', 'participant', 'phone', 'recipient', 'method', 'address_or_store', 'tracking'],
      ];
      // Every matching order, oldest first (the order the warehouse ships in), read in pages from one
      // cursor: a list's page limit must never silently drop orders from the warehouse's file.
      const items = await ordersRepo.allForExport(sql, await deps.participants.defaultProgramId(), {
        status: 'ordered',
        ...rest,
        type: 'physical',
      });
      for (const o of items) {
        const d = o.delivery;
        rows.push([
          o.id,
          o.createdAt,
          o.status,
          localized(o.rewardNames, 'pl'),
          o.points,
          o.participantName,
          o.participantPhone,
          'name' in d ? d.name : '',
          d.method,
          d.method === 'address' ? d.address : d.method === 'pickup' ? d.store : '',
          o.tracking,
        ]);
      }
      return toCsv(rows);
    },

    async forgetParticipant(db, participantId) {
      const rows = await db`
        update reward_orders set delivery = '{"method":"none"}'::jsonb, tracking = null, updated_at = ${clock.now()}
        where participant_id = ${participantId} and delivery <> '{"method":"none"}'::jsonb returning id`;
      return rows.length;
    },
  };
}

/** 50 zł, 50 €, R$ 50, 50 Br: money as the reader writes it. */
export function money(locale: Locale, amount: number, currency: string | null): string {
  if (!currency) return formatNumber(locale, amount);
  const tag = { pl: 'pl-PL', pt: currency === 'BRL' ? 'pt-BR' : 'pt-PT', be: 'be-BY' }[locale];
  try {
    return new Intl.NumberFormat(tag, { style: 'currency', currency, maximumFractionDigits: 0 }).format(amount);
  } catch {
    return `${formatNumber(locale, amount)} ${currency}`;
  }
}
