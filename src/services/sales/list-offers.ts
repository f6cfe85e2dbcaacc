/** What a staff member can log now and how far along their targets are. */
import type { Db } from '../../db/sql.js';
import * as campaignsRepo from '../../db/campaigns/repo.js';
import * as repo from '../../db/sales/repo.js';
import { campaignGate, STAFF_ROLES, type Earner, type ParticipantRole } from '../../domain/campaigns/campaign.js';
import type { Participant } from '../../domain/participants/index.js';
import { targetProgress } from '../../domain/sales/sales.js';
import type { SalesArea } from './area.js';
import type { ProductOffer, TargetView } from './types.js';

/** Products the earner can log now, the best-paying open campaign per product. */
export async function listOffers(db: Db, area: SalesArea, earner: Earner): Promise<ProductOffer[]> {
  const now = area.clock.now();
  const open = (await campaignsRepo.openCampaigns(db, earner.programId, now)).filter((c) => campaignGate(c, earner, now).status === 'open');
  const byId = new Map(open.map((c) => [c.id, c]));
  const best = new Map<string, ProductOffer>();
  for (const r of await campaignsRepo.productRules(db, [...byId.keys()])) {
    const c = byId.get(r.campaignId)!;
    const prev = best.get(r.productId);
    if (prev && prev.pointsPerUnit >= r.pointsPerUnit) continue;
    best.set(r.productId, {
      productId: r.productId,
      sku: r.sku,
      ean: r.ean,
      name: r.name,
      names: r.names,
      pointsPerUnit: r.pointsPerUnit,
      campaignId: c.id,
      campaignName: c.name,
      campaignNames: c.names,
    });
  }
  return [...best.values()].sort((a, b) => a.sku.localeCompare(b.sku));
}

/** By SKU (any case) or EAN/GTIN digits. */
export async function findOffer(db: Db, area: SalesArea, earner: Earner, query: string): Promise<ProductOffer | undefined> {
  const q = query.trim().toUpperCase();
  // GTINs compared padded to 14 digits: a UPC-A read as 12 digits matches its EAN-13 form.
  const digits = q.replace(/\s/g, '');
  const gtin = /^\d{8,14}$/.test(digits) ? digits.padStart(14, '0') : undefined;
  return (await listOffers(db, area, earner)).find(
    (o) => o.sku.toUpperCase() === q || (gtin !== undefined && o.ean !== null && o.ean.padStart(14, '0') === gtin),
  );
}

/** The earner's targets in open campaigns, with progress. */
export async function targetsOf(db: Db, area: SalesArea, earner: Earner): Promise<TargetView[]> {
  const open = await campaignsRepo.openCampaigns(db, earner.programId, area.clock.now());
  const byId = new Map(open.map((c) => [c.id, c]));
  const rows = await repo.targetsFor(db, [...byId.keys()], earner.id, earner.store ?? null);
  const out: TargetView[] = [];
  for (const t of rows) {
    const c = byId.get(t.campaignId)!;
    out.push({
      ...targetProgress({ ...t, done: await repo.targetDone(db, t) }),
      campaignName: c.name,
      campaignNames: c.names,
      store: t.store,
    });
  }
  return out;
}

/** Target progress of a participant for "my balance": staff only, [] for everyone else. */
export async function progressOf(db: Db, area: SalesArea, participant: Participant): Promise<TargetView[]> {
  const role = (participant.role ?? 'consumer') as ParticipantRole;
  if (!STAFF_ROLES.includes(role)) return [];
  const region = participant.profile?.region;
  return targetsOf(db, area, {
    id: participant.id,
    programId: participant.programId,
    role,
    store: participant.store,
    region: typeof region === 'string' ? region : null,
  });
}
