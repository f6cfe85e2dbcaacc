/** SQL for sales, targets and target awards. */
import type { Db } from '../sql.js';
import type { SaleStatus, TargetMetric } from '../../domain/sales/sales.js';
import { storeMatches } from '../../domain/campaigns/campaign.js';

export interface SaleRow {
  id: string;
  programId: string;
  campaignId: string;
  participantId: string;
  store: string | null;
  productId: string;
  quantity: number;
  invoice: string;
  invoiceNorm: string;
  photoRef: string | null;
  points: number;
  status: SaleStatus;
  decidedAt: Date | null;
  decidedBy: string | null;
  decisionNote: string | null;
  clawedBack: boolean;
  createdAt: Date;
}

export interface TargetRow {
  id: string;
  campaignId: string;
  participantId: string | null;
  store: string | null;
  metric: TargetMetric;
  goal: number;
  bonusPoints: number;
  createdAt: Date;
}

/** Inserts unless this participant already logged the invoice; undefined then. */
export async function insertSale(db: Db, s: Omit<SaleRow, 'id' | 'decidedAt' | 'decidedBy' | 'decisionNote' | 'clawedBack'>) {
  const [row] = await db<SaleRow[]>`
    insert into sales (program_id, campaign_id, participant_id, store, product_id, quantity, invoice, invoice_norm,
      photo_ref, points, status, created_at)
    values (${s.programId}, ${s.campaignId}, ${s.participantId}, ${s.store}, ${s.productId}, ${s.quantity}, ${s.invoice},
      ${s.invoiceNorm}, ${s.photoRef}, ${s.points}, ${s.status}, ${s.createdAt})
    on conflict (participant_id, invoice_norm) do nothing
    returning *`;
  return row;
}

export async function saleByInvoice(db: Db, participantId: string, invoiceNorm: string): Promise<SaleRow | undefined> {
  const [row] = await db<SaleRow[]>`select * from sales where participant_id = ${participantId} and invoice_norm = ${invoiceNorm}`;
  return row;
}

export async function getSale(db: Db, id: string, forUpdate = false): Promise<SaleRow | undefined> {
  const [row] = forUpdate
    ? await db<SaleRow[]>`select * from sales where id = ${id} for update`
    : await db<SaleRow[]>`select * from sales where id = ${id}`;
  return row;
}

export async function salesByInvoiceNorm(db: Db, programId: string, invoiceNorm: string): Promise<SaleRow[]> {
  return db<SaleRow[]>`select * from sales where program_id = ${programId} and invoice_norm = ${invoiceNorm} order by id for update`;
}

export async function decide(
  db: Db,
  id: string,
  d: { status: SaleStatus; at: Date; by: string; note?: string | null; clawedBack?: boolean },
): Promise<void> {
  await db`update sales set status = ${d.status}, decided_at = ${d.at}, decided_by = ${d.by},
    decision_note = ${d.note ?? null}, clawed_back = ${d.clawedBack ?? false} where id = ${id}`;
}

export async function listSales(db: Db, f: { status?: SaleStatus; campaignId?: string; limit: number; offset: number }) {
  return db<(SaleRow & { sku: string })[]>`
    select s.*, p.sku from sales s join products p on p.id = s.product_id
    where (${f.status ?? null}::text is null or s.status = ${f.status ?? null})
      and (${f.campaignId ?? null}::uuid is null or s.campaign_id = ${f.campaignId ?? null})
    order by s.created_at desc, s.id limit ${f.limit} offset ${f.offset}`;
}

export async function insertTarget(db: Db, t: Omit<TargetRow, 'id' | 'createdAt'>): Promise<TargetRow> {
  const [row] = await db<TargetRow[]>`
    insert into targets (campaign_id, participant_id, store, metric, goal, bonus_points)
    values (${t.campaignId}, ${t.participantId}, ${t.store}, ${t.metric}, ${t.goal}, ${t.bonusPoints}) returning *`;
  return row!;
}

export async function targetsOfCampaign(db: Db, campaignId: string): Promise<TargetRow[]> {
  return db<TargetRow[]>`select * from targets where campaign_id = ${campaignId} order by created_at, id`;
}

/**
 * Targets that apply to a participant (their own or their store's) in the given campaigns. Store
 * names are matched as words, not as exact text (see storeMatches): the participant's store is
 * free text typed at registration ("Demo, Lisboa" counts for the store "Demo").
 */
export async function targetsFor(db: Db, campaignIds: string[], participantId: string, store: string | null): Promise<TargetRow[]> {
  if (!campaignIds.length) return [];
  const rows = await db<TargetRow[]>`
    select * from targets where campaign_id = any(${campaignIds}::uuid[])
      and (participant_id = ${participantId} or store is not null)
    order by created_at, id`;
  return rows.filter((t) => t.participantId === participantId || (t.store !== null && storeMatches(store, t.store)));
}

/** Confirmed sales per participant and store of a campaign: the input of store-target sums. */
async function storeSales(db: Db, campaignId: string) {
  return db<{ participantId: string; store: string; units: number; points: number }[]>`
    select participant_id, store, sum(quantity)::int as units, sum(points)::int as points
    from sales where campaign_id = ${campaignId} and status = 'confirmed' and store is not null
    group by participant_id, store order by participant_id`;
}

/** Confirmed progress toward a target: units sold or points earned by sales. */
export async function targetDone(db: Db, t: TargetRow): Promise<number> {
  if (t.store !== null) {
    const rows = (await storeSales(db, t.campaignId)).filter((r) => storeMatches(r.store, t.store!));
    return rows.reduce((sum, r) => sum + (t.metric === 'units' ? r.units : r.points), 0);
  }
  const [row] = await db<{ done: number }[]>`
    select coalesce(sum(case when ${t.metric} = 'units' then quantity else points end), 0)::int as done
    from sales where campaign_id = ${t.campaignId} and status = 'confirmed' and participant_id = ${t.participantId}`;
  return row!.done;
}

/**
 * Records the target bonus for a participant unless it stands already; a withdrawn one is re-armed
 * under the next generation. Returns the generation awarded now, undefined when nothing is new.
 */
export async function claimTargetAward(db: Db, targetId: string, participantId: string, points: number, at: Date) {
  const [row] = await db<{ generation: number }[]>`
    insert into target_awards (target_id, participant_id, points, awarded_at)
    values (${targetId}, ${participantId}, ${points}, ${at})
    on conflict (target_id, participant_id) do update
      set revoked_at = null, generation = target_awards.generation + 1, points = excluded.points, awarded_at = excluded.awarded_at
      where target_awards.revoked_at is not null
    returning generation`;
  return row?.generation;
}

/** Withdraws the standing awards of a target; returns them (for their ledger keys). */
export async function revokeTargetAwards(db: Db, targetId: string, at: Date) {
  return db<{ participantId: string; points: number; generation: number; awardedAt: Date }[]>`
    update target_awards set revoked_at = ${at}
    where target_id = ${targetId} and revoked_at is null
    returning participant_id, points, generation, awarded_at`;
}

export async function storeContributors(db: Db, t: TargetRow): Promise<string[]> {
  const rows = (await storeSales(db, t.campaignId)).filter((r) => storeMatches(r.store, t.store!));
  return [...new Set(rows.map((r) => r.participantId))];
}

export interface ClawbackRow {
  id: string;
  programId: string;
  campaignId: string;
  participantId: string;
  saleId: string;
  transferKey: string;
  kind: 'sale' | 'bonus';
  targetId: string | null;
  points: number;
  taken: number;
  reservedAt: Date;
  createdAt: Date;
  settledAt: Date | null;
}

/** Opens the clawback of one paid transfer, or returns the one opened before (same transfer key). */
export async function openClawback(
  db: Db,
  c: Omit<ClawbackRow, 'id' | 'taken' | 'settledAt'>,
): Promise<ClawbackRow> {
  const [row] = await db<ClawbackRow[]>`
    insert into clawbacks (program_id, campaign_id, participant_id, sale_id, transfer_key, kind, target_id, points, reserved_at, created_at)
    values (${c.programId}, ${c.campaignId}, ${c.participantId}, ${c.saleId}, ${c.transferKey}, ${c.kind}, ${c.targetId},
      ${c.points}, ${c.reservedAt}, ${c.createdAt})
    on conflict (transfer_key) do nothing
    returning *`;
  return row ?? (await db<ClawbackRow[]>`select * from clawbacks where transfer_key = ${c.transferKey} for update`)[0]!;
}

export async function recordClawback(db: Db, id: string, taken: number, at: Date): Promise<ClawbackRow> {
  const [row] = await db<ClawbackRow[]>`
    update clawbacks set taken = taken + ${taken},
      settled_at = case when taken + ${taken} >= points then ${at}::timestamptz else null end
    where id = ${id} returning *`;
  return row!;
}

/** Ids of clawbacks still owed in a program, oldest first. */
export async function openClawbacks(db: Db, programId: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select id from clawbacks where program_id = ${programId} and settled_at is null order by created_at, id`;
  return rows.map((r) => r.id);
}

/** An open clawback, locked; undefined once settled (or taken by a concurrent import). */
export async function lockOpenClawback(db: Db, id: string): Promise<ClawbackRow | undefined> {
  const [row] = await db<ClawbackRow[]>`select * from clawbacks where id = ${id} and settled_at is null for update skip locked`;
  return row;
}

export async function setClawedBack(db: Db, saleId: string): Promise<void> {
  await db`update sales set clawed_back = true where id = ${saleId}`;
}

/**
 * Locks the targets a sale of this participant counts toward, in id order, before any ledger
 * write: a store target pays bonuses to other participants' accounts, so without this two sales
 * of one store could lock those accounts in opposite orders.
 */
export async function lockTargets(db: Db, campaignId: string, participantId: string, store: string | null): Promise<void> {
  const ids = (await targetsFor(db, [campaignId], participantId, store)).map((t) => t.id);
  if (ids.length) await db`select id from targets where id = any(${ids}::uuid[]) order by id for update`;
}

export async function countSalesOf(db: Db, participantId: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from sales where participant_id = ${participantId}`;
  return row?.n ?? 0;
}

/** Erasure: a participant's sales keep no photo; the rows stay, anonymous, for the campaign's totals. */
export async function forgetParticipantSales(db: Db, participantId: string): Promise<number> {
  const rows = await db`update sales set photo_ref = null where participant_id = ${participantId} and photo_ref is not null returning id`;
  return rows.length;
}
