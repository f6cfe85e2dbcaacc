/**
 * Reward orders and their status history. A status moves by a conditional update (`where status =
 * <expected>`), so a retried or concurrent fulfil/cancel changes an order at most once.
 */
import type { Db } from '../sql.js';
import { pageCursor, parsePageCursor } from '../page-cursor.js';
import type { DeliveryDetails, Order, OrderStatus, RewardType } from '../../domain/rewards/types.js';
import type { OrderFilter } from '../../domain/rewards/schema.js';

export interface OrderInsert {
  programId: string;
  rewardId: string;
  participantId: string;
  requestKey: string;
  type: RewardType;
  points: number;
  cashAmount: number | null;
  currency: string | null;
  delivery: DeliveryDetails;
  at: Date;
}

/** undefined: the request key was used before (the first order stands). */
export async function insert(db: Db, o: OrderInsert): Promise<Order | undefined> {
  const [row] = await db<Order[]>`
    insert into reward_orders (program_id, reward_id, participant_id, request_key, type, status, points, cash_amount,
                               currency, delivery, created_at, updated_at)
    values (${o.programId}, ${o.rewardId}, ${o.participantId}, ${o.requestKey}, ${o.type}, 'ordered', ${o.points},
            ${o.cashAmount}, ${o.currency}, ${db.json(o.delivery as never)}, ${o.at}, ${o.at})
    on conflict (program_id, request_key) do nothing
    returning *`;
  return row;
}

export async function byRequestKey(db: Db, programId: string, requestKey: string): Promise<Order | undefined> {
  const [row] = await db<Order[]>`select * from reward_orders where program_id = ${programId} and request_key = ${requestKey}`;
  return row;
}

export async function get(db: Db, id: string): Promise<Order | undefined> {
  const [row] = await db<Order[]>`select * from reward_orders where id = ${id}`;
  return row;
}

/** Moves `from` → `to` once; undefined when the order is not (any longer) in `from`. */
export async function move(
  db: Db,
  id: string,
  from: OrderStatus,
  to: OrderStatus,
  extra: { at: Date; tracking?: string | null; cancelReason?: string | null; cancelledBy?: string | null },
): Promise<Order | undefined> {
  const [row] = await db<Order[]>`
    update reward_orders set status = ${to}, updated_at = ${extra.at},
      shipped_at = case when ${to} = 'shipped' then ${extra.at} else shipped_at end,
      delivered_at = case when ${to} = 'delivered' then ${extra.at} else delivered_at end,
      cancelled_at = case when ${to} = 'cancelled' then ${extra.at} else cancelled_at end,
      tracking = coalesce(${extra.tracking ?? null}, tracking),
      cancel_reason = coalesce(${extra.cancelReason ?? null}, cancel_reason),
      cancelled_by = coalesce(${extra.cancelledBy ?? null}, cancelled_by)
    where id = ${id} and status = ${from}
    returning *`;
  return row;
}

export async function setVoucher(db: Db, id: string, voucherId: number): Promise<void> {
  await db`update reward_orders set voucher_id = ${voucherId} where id = ${id}`;
}

export async function addEvent(db: Db, orderId: string, status: OrderStatus, actor: string, reason: string | null, at: Date): Promise<void> {
  await db`insert into reward_order_events (order_id, status, actor, reason, at) values (${orderId}, ${status}, ${actor}, ${reason}, ${at})`;
}

/** Orders of this reward by this participant that still count against the per-participant limit. */
export async function countActive(db: Db, rewardId: string, participantId: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`
    select count(*)::int as n from reward_orders
    where reward_id = ${rewardId} and participant_id = ${participantId} and status <> 'cancelled'`;
  return row!.n;
}

/** Serialises one participant's orders of one reward, so a limit cannot be beaten from two chats. */
export async function lockParticipantReward(db: Db, rewardId: string, participantId: string): Promise<void> {
  await db`select pg_advisory_xact_lock(hashtextextended(${`reward:${rewardId}:${participantId}`}, 0))`;
}

export interface OrderRow extends Order {
  rewardNames: Record<string, string>;
  participantName: string | null;
  participantPhone: string | null;
}

function matching(db: Db, programId: string, f: Omit<OrderFilter, 'limit' | 'offset'>) {
  return db`
    o.program_id = ${programId}
    and (${f.status ?? null}::text is null or o.status = ${f.status ?? null})
    and (${f.type ?? null}::text is null or o.type = ${f.type ?? null})
    and (${f.rewardId ?? null}::uuid is null or o.reward_id = ${f.rewardId ?? null})
    and (${f.participantId ?? null}::uuid is null or o.participant_id = ${f.participantId ?? null})
    and (${f.from ?? null}::timestamptz is null or o.created_at >= ${f.from ?? null})
    and (${f.to ?? null}::timestamptz is null or o.created_at < ${f.to ?? null})`;
}

/**
 * Newest first; `f.after` (the nextCursor of the page before) continues by keyset instead of an
 * offset, which reads and drops every row before it (index (program_id[, status], created_at desc, id desc)).
 */
export async function list(db: Db, programId: string, f: OrderFilter): Promise<{ items: OrderRow[]; total: number; nextCursor: string | null }> {
  const where = matching(db, programId, f);
  const after = f.after ? parsePageCursor(f.after) : undefined;
  const items = await db<OrderRow[]>`
    select o.*, r.names as reward_names, p.name as participant_name, p.phone as participant_phone
      from reward_orders o join rewards r on r.id = o.reward_id join participants p on p.id = o.participant_id
     where ${where} ${after ? db`and (o.created_at, o.id) < (${after.createdAt}::timestamptz, ${after.id}::uuid)` : db``}
     order by o.created_at desc, o.id desc
     limit ${f.limit} offset ${after ? 0 : f.offset}`;
  const [count] = await db<{ n: number }[]>`select count(*)::int as n from reward_orders o where ${where}`;
  const last = items.length === f.limit ? items.at(-1) : undefined;
  return { items, total: count!.n, nextCursor: last ? pageCursor(last) : null };
}

/** Every order matching the filter, oldest first, read through a cursor in pages of 500. */
export async function allForExport(db: Db, programId: string, f: Omit<OrderFilter, 'limit' | 'offset'>): Promise<OrderRow[]> {
  const out: OrderRow[] = [];
  const cursor = db<OrderRow[]>`
    select o.*, r.names as reward_names, p.name as participant_name, p.phone as participant_phone
      from reward_orders o join rewards r on r.id = o.reward_id join participants p on p.id = o.participant_id
     where ${matching(db, programId, f)}
     order by o.created_at, o.id`.cursor(500);
  for await (const page of cursor) out.push(...page);
  return out;
}

/** A participant's latest orders, newest first, with the reward's names. */
export async function ofParticipant(
  db: Db,
  participantId: string,
  limit: number,
  offset: number,
): Promise<Array<Order & { rewardNames: Record<string, string> }>> {
  return db<Array<Order & { rewardNames: Record<string, string> }>>`
    select o.*, r.names as reward_names from reward_orders o join rewards r on r.id = o.reward_id
     where o.participant_id = ${participantId}
     order by o.created_at desc, o.id limit ${limit} offset ${offset}`;
}

export async function countOfParticipant(db: Db, participantId: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from reward_orders where participant_id = ${participantId}`;
  return row!.n;
}

export async function events(db: Db, orderId: string): Promise<Array<{ status: OrderStatus; actor: string; reason: string | null; at: Date }>> {
  return db`select status, actor, reason, at from reward_order_events where order_id = ${orderId} order by id` as never;
}

/** How many orders of a reward are in each status. */
export async function countByStatus(db: Db, rewardId: string): Promise<Record<OrderStatus, number>> {
  const counts = await db<{ status: OrderStatus; n: number }[]>`
    select status, count(*)::int as n from reward_orders where reward_id = ${rewardId} group by status`;
  const orders = { ordered: 0, shipped: 0, delivered: 0, cancelled: 0 } as Record<OrderStatus, number>;
  for (const c of counts) orders[c.status] = c.n;
  return orders;
}

/** Orders of a participant whose points are still only held, locked, oldest first. */
export async function openOrderIds(db: Db, participantId: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select id from reward_orders where participant_id = ${participantId} and status = 'ordered' order by created_at, id for update`;
  return rows.map((r) => r.id);
}

/** Erasure: drops delivery/payout details and tracking of every order of a participant. */
export async function forgetDelivery(db: Db, participantId: string, at: Date): Promise<number> {
  const rows = await db`
    update reward_orders set delivery = '{"method":"none"}'::jsonb, tracking = null, updated_at = ${at}
    where participant_id = ${participantId} and (delivery <> '{"method":"none"}'::jsonb or tracking is not null) returning id`;
  return rows.length;
}
