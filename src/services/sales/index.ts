/**
 * Sales logging for staff: points from the campaign's product rules, invoice numbers refused when
 * the same participant repeats one, approval by managers (pending points until then), targets with
 * a bonus awarded exactly once, and distributor sell-out imports that confirm or reject pending
 * sales in bulk and claw back points already paid for sales found invalid.
 *
 * Ledger keys: `sale:<id>` (earn, or the pending credit; confirmed as `sale:<id>:confirm`),
 * `sale:<id>:clawback` (reversal), `target:<targetId>:<participantId>` (bonus).
 */
import type { Db, Sql } from '../../db/sql.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { campaignGate, pointsWithMultiplier, type Earner, type Localized } from '../../domain/campaigns/campaign.js';
import {
  normalizeInvoice,
  parseSellOutCsv,
  targetProgress,
  type SellOutRow,
  type TargetProgress,
} from '../../domain/sales/sales.js';
import type { TargetInput } from '../../domain/campaigns/rules-schema.js';
import * as repo from '../../db/sales/repo.js';
import * as campaignsRepo from '../../db/campaigns/repo.js';
import type { Ledger } from '../ledger/index.js';
import type { CampaignsService, Notifier } from '../campaigns/index.js';

export type { TargetProgress } from '../../domain/sales/sales.js';

export interface ProductOffer {
  productId: string;
  sku: string;
  ean: string | null;
  name: string;
  names: Localized;
  pointsPerUnit: number;
  campaignId: string;
  campaignName: string;
  campaignNames: Localized;
}

export interface TargetView extends TargetProgress {
  campaignName: string;
  campaignNames: Localized;
  store: string | null;
}

export type LogSaleResult =
  | {
      status: 'logged';
      saleId: string;
      points: number;
      pending: boolean;
      offer: ProductOffer;
      quantity: number;
      balance: { available: number; pending: number };
      targets: TargetView[];
      bonuses: Array<{ targetId: string; points: number }>;
    }
  | { status: 'duplicate_invoice'; at: Date }
  | { status: 'unknown_product' }
  | { status: 'daily_cap' | 'campaign_cap'; cap: number }
  | { status: 'budget_exhausted' };

export interface LogSaleInput {
  participant: Earner;
  productId: string;
  quantity: number;
  invoice: string;
  photoRef?: string | null;
}

export type DecisionResult =
  | { status: 'confirmed' | 'rejected'; saleId: string }
  | { status: 'already_decided'; saleStatus: string }
  | { status: 'not_found' };

export interface SellOutReport {
  confirmed: number;
  rejected: number;
  clawedBack: number;
  /** Rejected sales whose points had already been spent: the clawback could not take them back. */
  clawbackShort: Array<{ saleId: string; available: number }>;
  notFound: string[];
  alreadyDecided: number;
  bad: Array<{ line: number; reason: string }>;
}

export interface SalesService {
  /** Products the earner can log now, best-paying campaign per product. */
  offers(db: Db, earner: Earner): Promise<ProductOffer[]>;
  /** By SKU (any case) or EAN/GTIN digits. */
  findOffer(db: Db, earner: Earner, query: string): Promise<ProductOffer | undefined>;
  logSale(db: Db, input: LogSaleInput): Promise<LogSaleResult>;
  approve(saleId: string, actor: string): Promise<DecisionResult>;
  reject(saleId: string, actor: string, note?: string): Promise<DecisionResult>;
  importSellOut(csv: string, actor: string): Promise<SellOutReport>;
  applySellOut(rows: SellOutRow[], actor: string): Promise<Omit<SellOutReport, 'bad'>>;
  targets(db: Db, earner: Earner): Promise<TargetView[]>;
  createTarget(campaignId: string, input: TargetInput, actor: string): Promise<repo.TargetRow>;
  listTargets(campaignId: string): Promise<Array<repo.TargetRow & { done: number }>>;
  list(filter: { status?: 'pending' | 'confirmed' | 'rejected'; campaignId?: string; limit?: number; offset?: number }): ReturnType<
    typeof repo.listSales
  >;
}

export interface SalesDeps {
  sql: Sql;
  ledger: Ledger;
  campaigns: CampaignsService;
  notifier?: Notifier;
  clock?: Clock;
  logger?: Logger;
}

export function createSales(deps: SalesDeps): SalesService {
  const { sql, ledger, campaigns } = deps;
  const clock = deps.clock ?? systemClock;

  async function offers(db: Db, earner: Earner): Promise<ProductOffer[]> {
    const now = clock.now();
    const open = (await campaignsRepo.openCampaigns(db, earner.programId, now))
      .filter((c) => campaignGate(c, earner, now).status === 'open');
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

  async function targets(db: Db, earner: Earner): Promise<TargetView[]> {
    const open = await campaignsRepo.openCampaigns(db, earner.programId, clock.now());
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

  /** After a sale of `participantId` was confirmed: award every target it completed, exactly once. */
  async function awardTargets(db: Db, campaignId: string, participantId: string, store: string | null, programId: string) {
    const bonuses: Array<{ targetId: string; points: number; participantId: string }> = [];
    for (const t of await repo.targetsFor(db, [campaignId], participantId, store)) {
      if (t.bonusPoints <= 0) continue;
      const done = await repo.targetDone(db, t);
      if (done < t.goal) continue;
      const who = t.store ? await repo.storeContributors(db, t) : [participantId];
      const fresh = await repo.claimTargetAwards(db, t.id, who, t.bonusPoints, clock.now());
      for (const pid of fresh) {
        await ledger.earn(
          {
            programId,
            participantId: pid,
            amount: t.bonusPoints,
            source: 'bonus',
            key: `target:${t.id}:${pid}`,
            campaignId,
            reason: { key: 'sales:reason_target', params: { goal: t.goal, metric: t.metric } },
          },
          db,
        );
        bonuses.push({ targetId: t.id, points: t.bonusPoints, participantId: pid });
        if (pid !== participantId) {
          await deps.notifier?.notifyParticipant(db, pid, (tr) => ({
            text: tr('sales:target_reached_store', { n: t.bonusPoints, goal: t.goal }),
          }));
        }
      }
    }
    return bonuses;
  }

  /** A rejected sale no longer counts against the campaign's caps and budget. */
  async function release(tx: Db, sale: repo.SaleRow): Promise<void> {
    const c = await campaignsRepo.getCampaign(tx, sale.campaignId);
    if (c) await campaigns.releaseAward(tx, c, sale.participantId, sale.points, sale.createdAt);
  }

  async function decideOne(
    tx: Db,
    sale: repo.SaleRow,
    verdict: 'confirm' | 'reject',
    actor: string,
    note?: string,
  ): Promise<{ outcome: 'confirmed' | 'rejected' | 'clawed_back' | 'already'; short?: number }> {
    const key = `sale:${sale.id}`;
    const now = clock.now();
    if (sale.status === 'pending') {
      if (verdict === 'confirm') {
        await repo.lockTargets(tx, sale.campaignId, sale.participantId, sale.store);
        await ledger.confirmPending(key, { actor }, tx);
        await repo.decide(tx, sale.id, { status: 'confirmed', at: now, by: actor, note });
        await awardTargets(tx, sale.campaignId, sale.participantId, sale.store, sale.programId);
        await deps.notifier?.notifyParticipant(tx, sale.participantId, (t) => ({
          text: t('sales:approved_notice', { n: sale.points, invoice: sale.invoice }),
        }));
        return { outcome: 'confirmed' };
      }
      await ledger.dropPending(key, { actor }, tx);
      await repo.decide(tx, sale.id, { status: 'rejected', at: now, by: actor, note });
      await release(tx, sale);
      await deps.notifier?.notifyParticipant(tx, sale.participantId, (t) => ({
        text: t('sales:rejected_notice', { invoice: sale.invoice }),
      }));
      return { outcome: 'rejected' };
    }
    if (sale.status === 'confirmed' && verdict === 'reject') {
      // Points were paid: take them back. Approval campaigns paid through `<key>:confirm`.
      // Sales confirmed on logging were earned under `key`; approved ones paid through `<key>:confirm`.
      const paidKey = sale.decidedBy ? `${key}:confirm` : key;
      const r = await ledger.reverse(
        { transferKey: paidKey, key: `${key}:clawback`, actor, reason: { key: 'sales:reason_clawback', params: { invoice: sale.invoice } } },
        tx,
      );
      const ok = r.status === 'reversed' || r.status === 'already_reversed';
      await repo.decide(tx, sale.id, { status: 'rejected', at: now, by: actor, note, clawedBack: ok });
      if (ok) await release(tx, sale);
      await deps.notifier?.notifyParticipant(tx, sale.participantId, (t) => ({
        text: t('sales:clawback_notice', { n: sale.points, invoice: sale.invoice }),
      }));
      return { outcome: 'clawed_back', short: r.status === 'insufficient' ? r.available : undefined };
    }
    return { outcome: 'already' };
  }

  async function applySellOut(rows: SellOutRow[], actor: string) {
    const report: Omit<SellOutReport, 'bad'> = {
      confirmed: 0,
      rejected: 0,
      clawedBack: 0,
      clawbackShort: [],
      notFound: [],
      alreadyDecided: 0,
    };
    const programId = await campaigns.defaultProgramId();
    // One transaction per invoice: a failure on one row never undoes the others.
    for (const row of rows) {
      await sql.begin(async (tx) => {
        const sales = await repo.salesByInvoiceNorm(tx, programId, normalizeInvoice(row.invoice));
        if (!sales.length) {
          report.notFound.push(row.invoice);
          return;
        }
        for (const sale of sales) {
          const r = await decideOne(tx, sale, row.verdict, actor, 'sell-out import');
          if (r.outcome === 'confirmed') report.confirmed++;
          else if (r.outcome === 'rejected') report.rejected++;
          else if (r.outcome === 'clawed_back') {
            report.rejected++;
            report.clawedBack++;
            if (r.short !== undefined) report.clawbackShort.push({ saleId: sale.id, available: r.short });
          } else report.alreadyDecided++;
        }
      });
    }
    await sql`insert into audit_log (actor, action, target, details)
      values (${actor}, 'sales.sell_out_import', 'sales', ${sql.json(report as never)})`;
    return report;
  }

  async function decision(saleId: string, verdict: 'confirm' | 'reject', actor: string, note?: string): Promise<DecisionResult> {
    return sql.begin(async (tx) => {
      const sale = await repo.getSale(tx, saleId, true);
      if (!sale) return { status: 'not_found' } as const;
      if (sale.status !== 'pending') return { status: 'already_decided', saleStatus: sale.status } as const;
      await decideOne(tx, sale, verdict, actor, note);
      await tx`insert into audit_log (actor, action, target, details)
        values (${actor}, ${verdict === 'confirm' ? 'sale.approve' : 'sale.reject'}, ${`sale:${saleId}`}, ${tx.json({ note: note ?? null })})`;
      return { status: verdict === 'confirm' ? 'confirmed' : 'rejected', saleId } as const;
    });
  }

  return {
    offers,
    targets,
    applySellOut,

    async findOffer(db, earner, query) {
      const q = query.trim().toUpperCase();
      // GTINs compared padded to 14 digits: a UPC-A read as 12 digits matches its EAN-13 form.
      const digits = q.replace(/\s/g, '');
      const gtin = /^\d{8,14}$/.test(digits) ? digits.padStart(14, '0') : undefined;
      return (await offers(db, earner)).find(
        (o) => o.sku.toUpperCase() === q || (gtin !== undefined && o.ean !== null && o.ean.padStart(14, '0') === gtin),
      );
    },

    async logSale(db, input) {
      const p = input.participant;
      const offer = (await offers(db, p)).find((o) => o.productId === input.productId);
      if (!offer) return { status: 'unknown_product' };
      const invoiceNorm = normalizeInvoice(input.invoice);
      const earlier = await repo.saleByInvoice(db, p.id, invoiceNorm);
      if (earlier) return { status: 'duplicate_invoice', at: earlier.createdAt };
      const campaign = (await campaignsRepo.getCampaign(db, offer.campaignId))!;
      const now = clock.now();
      const points = pointsWithMultiplier(offer.pointsPerUnit * input.quantity, campaign.multipliers, now);
      if (!campaign.requiresApproval) await repo.lockTargets(db, campaign.id, p.id, p.store ?? null);
      const gate = await campaigns.reserveAward(db, campaign, p.id, points);
      if (gate.status === 'budget_exhausted') {
        await campaigns.budgetExhausted(db, campaign);
        return { status: 'budget_exhausted' };
      }
      if (gate.status !== 'ok') return { status: gate.status, cap: gate.cap };
      const pending = campaign.requiresApproval;
      const sale = await repo.insertSale(db, {
        programId: p.programId,
        campaignId: campaign.id,
        participantId: p.id,
        store: p.store ?? null,
        productId: offer.productId,
        quantity: input.quantity,
        invoice: input.invoice.trim().slice(0, 100),
        invoiceNorm,
        photoRef: input.photoRef ?? null,
        points,
        status: pending ? 'pending' : 'confirmed',
        createdAt: now,
      });
      if (!sale) return { status: 'duplicate_invoice', at: now };
      const earn = {
        programId: p.programId,
        participantId: p.id,
        amount: points,
        source: 'sale' as const,
        key: `sale:${sale.id}`,
        campaignId: campaign.id,
        reason: { key: 'sales:reason_sale', params: { sku: offer.sku, quantity: input.quantity, invoice: sale.invoice } },
      };
      if (pending) await ledger.pendingCredit(earn, db);
      else await ledger.earn(earn, db);
      const bonuses = pending ? [] : await awardTargets(db, campaign.id, p.id, p.store ?? null, p.programId);
      const balance = await ledger.balance(p.programId, p.id, db);
      return {
        status: 'logged',
        saleId: sale.id,
        points,
        pending,
        offer,
        quantity: input.quantity,
        balance: { available: balance.available, pending: balance.pending },
        targets: await targets(db, p),
        bonuses: bonuses.filter((b) => b.participantId === p.id).map(({ targetId, points: n }) => ({ targetId, points: n })),
      };
    },

    approve: (saleId, actor) => decision(saleId, 'confirm', actor),
    reject: (saleId, actor, note) => decision(saleId, 'reject', actor, note),

    async importSellOut(csv, actor) {
      const { rows, bad } = parseSellOutCsv(csv);
      return { ...(await applySellOut(rows, actor)), bad };
    },

    async createTarget(campaignId, input, actor) {
      return sql.begin(async (tx) => {
        const c = await campaignsRepo.getCampaign(tx, campaignId);
        if (!c) throw new AppError('not_found', 'No such campaign');
        const t = await repo.insertTarget(tx, {
          campaignId,
          participantId: input.participantId ?? null,
          store: input.store ?? null,
          metric: input.metric,
          goal: input.goal,
          bonusPoints: input.bonusPoints,
        });
        await campaignsRepo.audit(tx, actor, 'target.create', `target:${t.id}`, { campaignId, ...input });
        return t;
      });
    },

    async listTargets(campaignId) {
      const rows = await repo.targetsOfCampaign(sql, campaignId);
      return Promise.all(rows.map(async (t) => ({ ...t, done: await repo.targetDone(sql, t) })));
    },

    list: (filter) =>
      repo.listSales(sql, {
        status: filter.status,
        campaignId: filter.campaignId,
        limit: Math.min(filter.limit ?? 50, 500),
        offset: filter.offset ?? 0,
      }),
  };
}
