/** SQL for sales, targets and target awards. */
import type { Db } from '../sql.js';
import type { SaleStatus, TargetMetric } from '../../domain/sales/sales.js';

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

/** Targets that apply to a participant (their own or their store's) in the given campaigns. */
export async function targetsFor(db: Db, campaignIds: string[], participantId: string, store: string | null): Promise<TargetRow[]> {
  if (!campaignIds.length) return [];
  return db<TargetRow[]>`
    select * from targets where campaign_id = any(${campaignIds}::uuid[])
      and (participant_id = ${participantId} or (store is not null and store = ${store}))
    order by created_at, id`;
}

/** Confirmed progress toward a target: units sold or points earned by sales. */
export async function targetDone(db: Db, t: TargetRow): Promise<number> {
  const [row] = await db<{ done: number }[]>`
    select coalesce(sum(case when ${t.metric} = 'units' then quantity else points end), 0)::int as done
    from sales where campaign_id = ${t.campaignId} and status = 'confirmed'
      and (${t.participantId}::uuid is null or participant_id = ${t.participantId})
      and (${t.store}::text is null or store = ${t.store})`;
  return row!.done;
}

/** Records the target bonus for each given participant not yet awarded; returns those newly awarded. */
export async function claimTargetAwards(db: Db, targetId: string, participantIds: string[], points: number, at: Date) {
  if (!participantIds.length) return [];
  const rows = await db<{ participantId: string }[]>`
    insert into target_awards (target_id, participant_id, points, awarded_at)
    select ${targetId}, p, ${points}, ${at} from unnest(${participantIds}::uuid[]) as p
    on conflict do nothing returning participant_id`;
  return rows.map((r) => r.participantId);
}

export async function storeContributors(db: Db, t: TargetRow): Promise<string[]> {
  const rows = await db<{ participantId: string }[]>`
    select distinct participant_id from sales
    where campaign_id = ${t.campaignId} and store = ${t.store} and status = 'confirmed' order by participant_id`;
  return rows.map((r) => r.participantId);
}

/**
 * Locks the targets a sale of this participant counts toward, in id order, before any ledger
 * write: a store target pays bonuses to other participants' accounts, so without this two sales
 * of one store could lock those accounts in opposite orders.
 */
export async function lockTargets(db: Db, campaignId: string, participantId: string, store: string | null): Promise<void> {
  await db`
    select id from targets where campaign_id = ${campaignId}
      and (participant_id = ${participantId} or (store is not null and store = ${store}))
    order by id for update`;
}
