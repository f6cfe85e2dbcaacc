/** SQL for campaigns, products and their rules. Plain functions on a pool or a transaction. */
import type { Db } from '../sql.js';
import type { Campaign, Localized, Multiplier, ParticipantRole } from '../../domain/campaigns/campaign.js';

export interface CampaignRow {
  id: string;
  programId: string;
  name: string;
  names: Localized;
  descriptions: Localized;
  status: Campaign['status'];
  startsAt: Date;
  endsAt: Date;
  audienceRoles: string[];
  stores: string[];
  regions: string[];
  multipliers: Array<{ startsAt: string; endsAt: string; factor: number }>;
  capPerDay: number | null;
  capPerCampaign: number | null;
  budget: number | null;
  awarded: number;
  budgetExhaustedAt: Date | null;
  requiresApproval: boolean;
  createdAt: Date;
}

export function toCampaign(r: CampaignRow): Campaign {
  return {
    id: r.id,
    programId: r.programId,
    name: r.name,
    names: r.names ?? {},
    descriptions: r.descriptions ?? {},
    status: r.status,
    startsAt: r.startsAt,
    endsAt: r.endsAt,
    audienceRoles: r.audienceRoles as ParticipantRole[],
    stores: r.stores,
    regions: r.regions,
    multipliers: (r.multipliers ?? []).map(
      (m): Multiplier => ({ startsAt: new Date(m.startsAt), endsAt: new Date(m.endsAt), factor: m.factor }),
    ),
    capPerDay: r.capPerDay,
    capPerCampaign: r.capPerCampaign,
    budget: r.budget,
    awarded: r.awarded,
    budgetExhaustedAt: r.budgetExhaustedAt,
    requiresApproval: r.requiresApproval,
    createdAt: r.createdAt,
  };
}

const COLUMNS = `id, program_id, name, names, descriptions, status, starts_at, ends_at, audience_roles, stores, regions,
  multipliers, cap_per_day, cap_per_campaign, budget, awarded, budget_exhausted_at, requires_approval, created_at`;

/** What an insert or update writes: a campaign without what the database keeps for itself. */
export type CampaignWrite = Omit<Campaign, 'id' | 'programId' | 'awarded' | 'budgetExhaustedAt' | 'createdAt' | 'audienceRoles'> & {
  audienceRoles: string[];
};

/** $2…$15 of insertCampaign and updateCampaign, in the order both statements use. */
function writeParams(c: CampaignWrite): never[] {
  return [
    c.name,
    c.names,
    c.descriptions,
    c.status,
    c.startsAt,
    c.endsAt,
    c.audienceRoles,
    c.stores,
    c.regions,
    c.multipliers,
    c.capPerDay,
    c.capPerCampaign,
    c.budget,
    c.requiresApproval,
  ] as never[];
}

export async function insertCampaign(db: Db, programId: string, c: CampaignWrite): Promise<Campaign> {
  const [row] = await db.unsafe<CampaignRow[]>(
    `insert into campaigns (program_id, name, names, descriptions, status, starts_at, ends_at, audience_roles, stores,
       regions, multipliers, cap_per_day, cap_per_campaign, budget, requires_approval)
     values ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7, $8::text[], $9::text[], $10::text[], $11::jsonb, $12, $13, $14, $15) returning ${COLUMNS}`,
    [programId, ...writeParams(c)],
  );
  return toCampaign(row!);
}

export async function updateCampaign(db: Db, id: string, c: CampaignWrite): Promise<Campaign | undefined> {
  const [row] = await db.unsafe<CampaignRow[]>(
    `update campaigns set name = $2, names = $3::jsonb, descriptions = $4::jsonb, status = $5, starts_at = $6, ends_at = $7,
       audience_roles = $8::text[], stores = $9::text[], regions = $10::text[], multipliers = $11::jsonb, cap_per_day = $12, cap_per_campaign = $13,
       budget = $14, requires_approval = $15, updated_at = now(),
       budget_exhausted_at = case when $14::bigint is null or awarded < $14::bigint then null else budget_exhausted_at end
     where id = $1 returning ${COLUMNS}`,
    [id, ...writeParams(c)],
  );
  return row ? toCampaign(row) : undefined;
}

export async function getCampaign(db: Db, id: string, forUpdate = false): Promise<Campaign | undefined> {
  const [row] = await db.unsafe<CampaignRow[]>(
    `select ${COLUMNS} from campaigns where id = $1 ${forUpdate ? 'for update' : ''}`,
    [id],
  );
  return row ? toCampaign(row) : undefined;
}

export async function listCampaigns(
  db: Db,
  programId: string,
  filter: { status?: string; limit: number; offset: number },
): Promise<Campaign[]> {
  const rows = await db.unsafe<CampaignRow[]>(
    `select ${COLUMNS} from campaigns where program_id = $1 and ($2::text is null or status = $2)
     order by starts_at desc, id limit $3 offset $4`,
    [programId, filter.status ?? null, filter.limit, filter.offset],
  );
  return rows.map(toCampaign);
}

/** Campaigns that are active and in their window at `now`, oldest first. */
export async function openCampaigns(db: Db, programId: string, now: Date): Promise<Campaign[]> {
  const rows = await db.unsafe<CampaignRow[]>(
    `select ${COLUMNS} from campaigns where program_id = $1 and status = 'active' and starts_at <= $2 and ends_at > $2
     order by starts_at, id`,
    [programId, now],
  );
  return rows.map(toCampaign);
}

export interface ProductRuleRow {
  productId: string;
  sku: string;
  ean: string | null;
  name: string;
  names: Localized;
  pointsPerUnit: number;
  campaignId: string;
}

export async function upsertProduct(
  db: Db,
  programId: string,
  p: { sku: string; ean?: string | null; name: string; names: Localized },
): Promise<string> {
  const [row] = await db<{ id: string }[]>`
    insert into products (program_id, sku, ean, name, names)
    values (${programId}, ${p.sku}, ${p.ean ?? null}, ${p.name}, ${db.json(p.names as never)})
    on conflict (program_id, sku) do update
      set ean = coalesce(excluded.ean, products.ean), name = excluded.name, names = excluded.names
    returning id`;
  return row!.id;
}

export async function replaceProductRules(
  db: Db,
  campaignId: string,
  rules: Array<{ productId: string; pointsPerUnit: number }>,
): Promise<void> {
  await db`delete from campaign_products where campaign_id = ${campaignId}`;
  if (!rules.length) return;
  await db`
    insert into campaign_products (campaign_id, product_id, points_per_unit)
    select ${campaignId}, * from unnest(${rules.map((r) => r.productId)}::uuid[], ${rules.map((r) => r.pointsPerUnit)}::int[])`;
}

export async function productRules(db: Db, campaignIds: string[]): Promise<ProductRuleRow[]> {
  if (!campaignIds.length) return [];
  return db<ProductRuleRow[]>`
    select p.id as product_id, p.sku, p.ean, p.name, p.names, cp.points_per_unit, cp.campaign_id
    from campaign_products cp join products p on p.id = cp.product_id
    where cp.campaign_id = any(${campaignIds}::uuid[])
    order by p.sku`;
}

export interface CampaignEdge {
  id: string;
  programId: string;
  name: string;
  names: Record<string, string>;
  audienceRoles: string[];
  stores: string[];
  regions: string[];
  startsAt: Date;
  endsAt: Date;
  /** The program's time zone: dates in the announcement are its local days. */
  timeZone: string;
}

/**
 * Campaigns that started (or ended) within the last `lookbackMs` and have no such announcement
 * yet. The look-back keeps a fresh install from announcing campaigns that ended long ago.
 */
export async function campaignsAtEdge(db: Db, edge: 'start' | 'end', lookbackMs: number): Promise<CampaignEdge[]> {
  const column = edge === 'start' ? 'starts_at' : 'ends_at';
  return db.unsafe<CampaignEdge[]>(
    `select c.id, c.program_id, c.name, c.names, c.audience_roles, c.stores, c.regions, c.starts_at, c.ends_at, prog.time_zone
       from campaigns c join programs prog on prog.id = c.program_id
      where c.${column} <= now() and c.${column} > now() - make_interval(secs => $1)
        and (c.status = 'active' or ($2 = 'end' and c.status = 'ended'))
        and not exists (select 1 from broadcasts b where b.source_key = 'campaign:' || c.id || ':' || $2)`,
    [lookbackMs / 1000, edge] as never[],
  );
}

/** The program a campaign belongs to; undefined when there is no such campaign. */
export async function programOfCampaign(db: Db, campaignId: string): Promise<string | undefined> {
  const [row] = await db.unsafe<Array<{ programId: string }>>(`select program_id from campaigns where id = $1`, [campaignId]);
  return row?.programId;
}
