/**
 * Rewards and their e-voucher pools. Stock moves only by conditional updates (`stock > 0`) and pool
 * codes only by `for update skip locked`, so concurrent orders never oversell or share a code.
 */
import type { Db } from '../sql.js';
import type { Reward, RewardStatus, RewardType } from '../../domain/rewards/types.js';

type Row = Omit<Reward, 'stock'> & { stock: number | null; freeVouchers: number | null };

/** E-voucher stock is the number of free codes; everything else keeps its own column. */
const REWARD_COLUMNS = (db: Db) => db`
  r.*, case when r.type = 'e_voucher'
    then (select count(*)::int from reward_vouchers v where v.reward_id = r.id and v.order_id is null) end as free_vouchers`;

const toReward = (r: Row): Reward => {
  const { freeVouchers, ...rest } = r;
  return { ...rest, stock: r.type === 'e_voucher' ? (freeVouchers ?? 0) : r.stock };
};

/** What an insert or update writes: a reward without ids, timestamps and derived fields. */
export type RewardWrite = Pick<
  Reward,
  | 'type' | 'status' | 'names' | 'descriptions' | 'imageUrl' | 'cost' | 'stock' | 'availableFrom' | 'availableUntil'
  | 'roles' | 'limitPerParticipant' | 'cashOut' | 'lowStockThreshold' | 'sortOrder'
>;

export async function insert(db: Db, programId: string, w: RewardWrite): Promise<Reward> {
  const [row] = await db<Row[]>`
    insert into rewards (program_id, type, status, names, descriptions, image_url, cost, stock, available_from,
                         available_until, roles, limit_per_participant, cash_out, low_stock_threshold, sort_order)
    values (${programId}, ${w.type}, ${w.status}, ${db.json(w.names as never)}, ${db.json(w.descriptions as never)},
            ${w.imageUrl}, ${w.cost}, ${w.stock}, ${w.availableFrom}, ${w.availableUntil}, ${w.roles}::text[],
            ${w.limitPerParticipant}, ${w.cashOut ? db.json(w.cashOut as never) : null}, ${w.lowStockThreshold}, ${w.sortOrder})
    returning id`;
  return (await get(db, row!.id))!;
}

export async function update(db: Db, id: string, w: RewardWrite): Promise<void> {
  await db`
    update rewards set status = ${w.status}, names = ${db.json(w.names as never)},
      descriptions = ${db.json(w.descriptions as never)}, image_url = ${w.imageUrl}, cost = ${w.cost}, stock = ${w.stock},
      available_from = ${w.availableFrom}, available_until = ${w.availableUntil}, roles = ${w.roles}::text[],
      limit_per_participant = ${w.limitPerParticipant}, cash_out = ${w.cashOut ? db.json(w.cashOut as never) : null},
      low_stock_threshold = ${w.lowStockThreshold}, sort_order = ${w.sortOrder}, updated_at = now(),
      -- more stock than the alert level: the next shortage alerts again
      low_stock_alerted_at = case when ${w.stock}::int is null or ${w.stock}::int > ${w.lowStockThreshold}
                                  then null else low_stock_alerted_at end
    where id = ${id}`;
}

/** Adds (or removes) physical stock relative to what concurrent orders left; refuses to go below 0. */
export async function addStock(db: Db, id: string, delta: number): Promise<number | undefined> {
  const [row] = await db<{ stock: number }[]>`
    update rewards set stock = stock + ${delta}, updated_at = now(),
      low_stock_alerted_at = case when stock + ${delta} > low_stock_threshold then null else low_stock_alerted_at end
    where id = ${id} and stock is not null and stock + ${delta} >= 0 returning stock`;
  return row?.stock;
}

export async function get(db: Db, id: string): Promise<Reward | undefined> {
  const [row] = await db<Row[]>`select ${REWARD_COLUMNS(db)} from rewards r where r.id = ${id}`;
  return row ? toReward(row) : undefined;
}

/** Locks the reward row for an admin change (not against orders' foreign-key checks). */
export async function lock(db: Db, id: string): Promise<Reward | undefined> {
  const [row] = await db<{ id: string }[]>`select id from rewards where id = ${id} for no key update`;
  return row ? get(db, id) : undefined;
}

export async function list(
  db: Db,
  programId: string,
  filter: { status?: RewardStatus | RewardStatus[]; type?: RewardType } = {},
): Promise<Reward[]> {
  const statuses = filter.status === undefined ? null : Array.isArray(filter.status) ? filter.status : [filter.status];
  const rows = await db<Row[]>`
    select ${REWARD_COLUMNS(db)} from rewards r
    where r.program_id = ${programId}
      and (${statuses === null} or r.status = any(${statuses ?? []}::text[]))
      and (${filter.type ?? null}::text is null or r.type = ${filter.type ?? null})
    order by r.sort_order, r.cost, r.created_at`;
  return rows.map(toReward);
}

/** One unit off a physical stock; undefined = none left (or unlimited stock: returns null). */
export async function takeStock(db: Db, id: string): Promise<{ stock: number | null } | undefined> {
  const [row] = await db<{ stock: number | null }[]>`
    update rewards set stock = stock - 1 where id = ${id} and stock > 0 returning stock`;
  return row;
}

export async function returnStock(db: Db, id: string): Promise<void> {
  await db`update rewards set stock = stock + 1 where id = ${id} and stock is not null`;
}

/** Marks the low-stock alert as sent; true only for the one caller that flipped it. */
export async function markLowStockAlerted(db: Db, id: string, at: Date): Promise<boolean> {
  const rows = await db`update rewards set low_stock_alerted_at = ${at} where id = ${id} and low_stock_alerted_at is null returning id`;
  return rows.length > 0;
}

export async function clearLowStockAlert(db: Db, id: string): Promise<void> {
  await db`update rewards set low_stock_alerted_at = null where id = ${id}`;
}

// ---- e-voucher pool ----

export async function insertVouchers(
  db: Db,
  rewardId: string,
  importId: string,
  codes: Array<{ enc: Buffer; hash: Buffer }>,
): Promise<number> {
  if (!codes.length) return 0;
  const rows = await db`
    insert into reward_vouchers (reward_id, import_id, code_enc, code_hash)
    select ${rewardId}, ${importId}, e, h
      from unnest(${codes.map((c) => c.enc) as never}::bytea[], ${codes.map((c) => c.hash) as never}::bytea[]) as x(e, h)
    on conflict (reward_id, code_hash) do nothing
    returning id`;
  return rows.length;
}

/** Hands one free code to an order: each code exactly once, concurrent takers skip each other's rows. */
export async function takeVoucher(db: Db, rewardId: string, orderId: string, at: Date): Promise<{ id: number; codeEnc: Buffer } | undefined> {
  const [row] = await db<{ id: number; codeEnc: Buffer }[]>`
    update reward_vouchers set order_id = ${orderId}, assigned_at = ${at}
    where id = (select id from reward_vouchers where reward_id = ${rewardId} and order_id is null
                order by id limit 1 for update skip locked)
    returning id, code_enc`;
  return row;
}

export async function voucherOf(db: Db, orderId: string): Promise<{ id: number; codeEnc: Buffer } | undefined> {
  const [row] = await db<{ id: number; codeEnc: Buffer }[]>`select id, code_enc from reward_vouchers where order_id = ${orderId}`;
  return row;
}

export async function poolLevels(db: Db, rewardId: string): Promise<{ free: number; assigned: number; imports: number }> {
  const [row] = await db<{ free: number; assigned: number; imports: number }[]>`
    select count(*) filter (where order_id is null)::int as free, count(*) filter (where order_id is not null)::int as assigned,
           count(distinct import_id)::int as imports
      from reward_vouchers where reward_id = ${rewardId}`;
  return row!;
}


export async function countRewards(db: Db): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from rewards`;
  return row!.n;
}
