/**
 * Sales logging for staff: points from the campaign's product rules, invoice numbers refused when
 * the same participant repeats one, approval by managers (pending points until then), targets with
 * a bonus awarded exactly once, and distributor sell-out imports that confirm or reject pending
 * sales in bulk and claw back points already paid for sales found invalid.
 *
 * Ledger keys: `sale:<id>` (earn, or the pending credit; confirmed as `sale:<id>:confirm`),
 * `target:<targetId>:<participantId>` (bonus; `…:<n>` when re-earned after a withdrawal),
 * `<paid key>:clawback` (reversal) and `<paid key>:clawback:<taken so far>` (partial takes when the
 * participant had spent the points: the rest stays owed in `clawbacks` and later imports collect it).
 */
import type postgres from 'postgres';
import type { Db, Sql } from '../../db/sql.js';
import { withTransaction } from '../../db/sql.js';
import type { Translate, Locale } from '../../i18n/index.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import {
  campaignGate,
  campaignName,
  pointsWithMultiplier,
  STAFF_ROLES,
  type Campaign,
  type Earner,
  type Localized,
  type ParticipantRole,
} from '../../domain/campaigns/campaign.js';
import type { Participant } from '../../domain/participants/index.js';
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
import type { AwardGate } from '../campaigns/index.js';
import { audit } from '../../db/audit-repo.js';

export type { TargetProgress } from '../../domain/sales/sales.js';

/** A product rule of a campaign the participant can earn in, with that campaign's name. */
export interface ProductOffer extends campaignsRepo.ProductRuleRow {
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
  /**
   * Clawbacks (of a sale's points or of a target bonus it completed) that could not take everything
   * back because the points were already spent: `due` stays owed and later imports collect it.
   */
  clawbackShort: Array<{ saleId: string; participantId: string; kind: 'sale' | 'bonus'; due: number }>;
  /** Points collected in this run on clawbacks left owed by earlier decisions. */
  recovered: number;
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
  /** "My balance" lines for staff: progress toward each open target, in the reader's language. [] for others. */
  progressLines(db: Db, participant: Participant, reader: { t: Translate; locale: Locale }): Promise<string[]>;
  /** How many sales are kept for a participant (for /mydata). */
  countOf(db: Db, participantId: string): Promise<number>;
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

  const bonusKey = (targetId: string, participantId: string, generation: number) =>
    generation === 1 ? `target:${targetId}:${participantId}` : `target:${targetId}:${participantId}:${generation}`;
  const points = (t: Translate, n: number) => t('common:points', { count: n });

  /**
   * After a sale of `participantId` was confirmed: award every target it completed, exactly once.
   * A bonus spends the campaign's caps and budget like a sale does; one they refuse is not paid nor
   * recorded, so a later sale (or a raised budget) can still pay it.
   */
  async function awardTargets(db: Db, campaignId: string, participantId: string, store: string | null, programId: string) {
    const bonuses: Array<{ targetId: string; points: number; participantId: string }> = [];
    let campaign: Campaign | undefined;
    for (const t of await repo.targetsFor(db, [campaignId], participantId, store)) {
      if (t.bonusPoints <= 0) continue;
      const done = await repo.targetDone(db, t);
      if (done < t.goal) continue;
      campaign ??= (await campaignsRepo.getCampaign(db, campaignId))!;
      const c = campaign;
      const who = t.store ? await repo.storeContributors(db, t) : [participantId];
      for (const pid of who) {
        let refused: AwardGate | undefined;
        const paid = await savepoint(db, async (sp) => {
          const generation = await repo.claimTargetAward(sp, t.id, pid, t.bonusPoints, clock.now());
          if (generation === undefined) return false;
          const gate = await campaigns.reserveAward(sp, c, pid, t.bonusPoints);
          if (gate.status !== 'ok') {
            refused = gate;
            throw ROLLBACK;
          }
          await ledger.earn(sp, {
              programId,
              participantId: pid,
              amount: t.bonusPoints,
              source: 'bonus',
              key: bonusKey(t.id, pid, generation),
              campaignId,
              reason: { key: 'sales:reason_target', params: { goal: t.goal, metric: t.metric } },
            });
          return true;
        });
        if (refused) {
          if (refused.status === 'budget_exhausted') await campaigns.budgetExhausted(db, c);
          deps.logger?.info({ targetId: t.id, participantId: pid, gate: refused.status }, 'target bonus withheld by campaign limits');
          continue;
        }
        if (!paid) continue;
        bonuses.push({ targetId: t.id, points: t.bonusPoints, participantId: pid });
        if (pid !== participantId) {
          await deps.notifier?.notifyParticipant(db, pid, (tr) => ({
            text: tr('sales:target_reached_store', { points: points(tr, t.bonusPoints), goal: t.goal }),
          }));
        }
      }
    }
    return bonuses;
  }

  /** Gives back to the campaign's caps and budget what a clawback took (reserved at `at`). */
  async function release(tx: Db, campaignId: string, participantId: string, n: number, at: Date): Promise<void> {
    if (n <= 0) return;
    const c = await campaignsRepo.getCampaign(tx, campaignId);
    if (c) await campaigns.releaseAward(tx, c, participantId, n, at);
  }

  /**
   * Takes back what a clawback still owes: the whole paid transfer by a reversal when the points are
   * there, else what is available now (a debit adjustment); the rest stays owed.
   */
  async function collect(tx: Db, cb: repo.ClawbackRow, actor: string, invoice: string): Promise<{ taken: number; due: number }> {
    const reason = {
      key: cb.kind === 'sale' ? 'sales:reason_clawback' : 'sales:reason_bonus_clawback',
      params: { invoice },
    };
    let due = cb.points - cb.taken;
    let taken = 0;
    if (cb.taken === 0) {
      const r = await ledger.reverse(tx, { transferKey: cb.transferKey, key: `${cb.transferKey}:clawback`, actor, reason });
      if (r.status === 'reversed' || r.status === 'already_reversed') [taken, due] = [due, 0];
      else if (r.status !== 'insufficient') {
        // Nothing was paid under that key (or it cannot be reversed): nothing to owe either.
        deps.logger?.warn({ clawbackId: cb.id, status: r.status }, 'clawback: paid transfer not reversible');
        await repo.recordClawback(tx, cb.id, cb.points - cb.taken, clock.now());
        return { taken: 0, due: 0 };
      }
    }
    // Two tries: the available balance can drop between the read and the debit (a reward order).
    for (let attempt = 0; due > 0 && attempt < 2; attempt++) {
      const { available } = await ledger.balance(tx, cb.programId, cb.participantId);
      const n = Math.min(due, available);
      if (n <= 0) break;
      const a = await ledger.adjust(tx, { programId: cb.programId, participantId: cb.participantId, amount: -n, key: `${cb.transferKey}:clawback:${cb.taken + taken}`, actor, reason });
      if (a.status === 'adjusted') [taken, due] = [taken + n, due - n];
    }
    if (taken > 0) {
      const row = await repo.recordClawback(tx, cb.id, taken, clock.now());
      if (row.settledAt && cb.kind === 'sale') await repo.setClawedBack(tx, cb.saleId);
      await release(tx, cb.campaignId, cb.participantId, taken, cb.reservedAt);
    }
    return { taken, due };
  }

  /** The sentence about the points of a clawback: all taken, some taken and the rest owed, or all owed. */
  const takenText = (t: Translate, r: { taken: number; due: number }) =>
    r.due === 0
      ? t('sales:clawback_taken_all', { points: points(t, r.taken) })
      : r.taken > 0
        ? t('sales:clawback_taken_part', { taken: points(t, r.taken), due: points(t, r.due) })
        : t('sales:clawback_taken_none', { due: points(t, r.due) });

  type Short = SellOutReport['clawbackShort'][number];

  /**
   * A confirmed sale was rejected: take its points back and withdraw the bonuses of targets it no
   * longer completes. The participant (and store colleagues who lose a bonus) are told what was
   * taken and what stays owed.
   */
  async function clawBack(tx: Db, sale: repo.SaleRow, actor: string): Promise<Short[]> {
    const now = clock.now();
    const short: Short[] = [];
    const key = `sale:${sale.id}`;
    // Sales confirmed on logging were earned under `key`; approved ones paid through `<key>:confirm`.
    const paidKey = sale.decidedBy ? `${key}:confirm` : key;
    const cb = await repo.openClawback(tx, {
      programId: sale.programId,
      campaignId: sale.campaignId,
      participantId: sale.participantId,
      saleId: sale.id,
      transferKey: paidKey,
      kind: 'sale',
      targetId: null,
      points: sale.points,
      reservedAt: sale.createdAt,
      createdAt: now,
    });
    const r = await collect(tx, cb, actor, sale.invoice);
    if (r.due > 0) short.push({ saleId: sale.id, participantId: sale.participantId, kind: 'sale', due: r.due });
    await deps.notifier?.notifyParticipant(tx, sale.participantId, (t) => ({
      text: `${t('sales:clawback_notice', { invoice: sale.invoice })} ${takenText(t, r)}`,
    }));

    let campaign: Campaign | undefined;
    for (const target of await repo.targetsFor(tx, [sale.campaignId], sale.participantId, sale.store)) {
      if ((await repo.targetDone(tx, target)) >= target.goal) continue;
      for (const award of await repo.revokeTargetAwards(tx, target.id, now)) {
        const bonus = await repo.openClawback(tx, {
          programId: sale.programId,
          campaignId: sale.campaignId,
          participantId: award.participantId,
          saleId: sale.id,
          transferKey: bonusKey(target.id, award.participantId, award.generation),
          kind: 'bonus',
          targetId: target.id,
          points: award.points,
          reservedAt: award.awardedAt,
          createdAt: now,
        });
        const b = await collect(tx, bonus, actor, sale.invoice);
        if (b.due > 0) short.push({ saleId: sale.id, participantId: award.participantId, kind: 'bonus', due: b.due });
        campaign ??= await campaignsRepo.getCampaign(tx, sale.campaignId);
        const c = campaign!;
        await deps.notifier?.notifyParticipant(tx, award.participantId, (t, locale) => ({
          text: `${t('sales:bonus_revoked_notice', { invoice: sale.invoice, campaign: campaignName(c, locale) })} ${takenText(t, b)}`,
        }));
      }
    }
    return short;
  }

  /** Collects what earlier clawbacks still owe, each in its own transaction; returns the points taken. */
  async function settleOpenClawbacks(programId: string, actor: string): Promise<number> {
    let recovered = 0;
    for (const id of await repo.openClawbacks(sql, programId)) {
      recovered += await withTransaction(sql, async (tx) => {
        const cb = await repo.lockOpenClawback(tx, id);
        if (!cb) return 0;
        const sale = (await repo.getSale(tx, cb.saleId))!;
        const r = await collect(tx, cb, actor, sale.invoice);
        if (r.taken > 0) {
          await deps.notifier?.notifyParticipant(tx, cb.participantId, (t) => ({
            text: t(r.due ? 'sales:clawback_recovered_part' : 'sales:clawback_recovered', {
              invoice: sale.invoice,
              points: points(t, r.taken),
              due: points(t, r.due),
            }),
          }));
        }
        return r.taken;
      });
    }
    return recovered;
  }

  async function decideOne(
    tx: Db,
    sale: repo.SaleRow,
    verdict: 'confirm' | 'reject',
    actor: string,
    note?: string,
  ): Promise<{ outcome: 'confirmed' | 'rejected' | 'clawed_back' | 'already'; short?: Short[] }> {
    const key = `sale:${sale.id}`;
    const now = clock.now();
    if (sale.status === 'pending') {
      if (verdict === 'confirm') {
        await repo.lockTargets(tx, sale.campaignId, sale.participantId, sale.store);
        await ledger.confirmPending(tx, key, { actor });
        await repo.decide(tx, sale.id, { status: 'confirmed', at: now, by: actor, note });
        await awardTargets(tx, sale.campaignId, sale.participantId, sale.store, sale.programId);
        await deps.notifier?.notifyParticipant(tx, sale.participantId, (t) => ({
          text: t('sales:approved_notice', { points: points(t, sale.points), invoice: sale.invoice }),
        }));
        return { outcome: 'confirmed' };
      }
      await ledger.dropPending(tx, key, { actor });
      await repo.decide(tx, sale.id, { status: 'rejected', at: now, by: actor, note });
      await release(tx, sale.campaignId, sale.participantId, sale.points, sale.createdAt);
      await deps.notifier?.notifyParticipant(tx, sale.participantId, (t) => ({
        text: t('sales:rejected_notice', { invoice: sale.invoice }),
      }));
      return { outcome: 'rejected' };
    }
    if (sale.status === 'confirmed' && verdict === 'reject') {
      // Points were paid: take them back (and bonuses the sale completed), or as much as is there.
      await repo.lockTargets(tx, sale.campaignId, sale.participantId, sale.store);
      await repo.decide(tx, sale.id, { status: 'rejected', at: now, by: actor, note });
      // The row as read: its decidedBy tells which ledger key paid the sale.
      const short = await clawBack(tx, sale, actor);
      return { outcome: 'clawed_back', short };
    }
    return { outcome: 'already' };
  }

  async function applySellOut(rows: SellOutRow[], actor: string) {
    const report: Omit<SellOutReport, 'bad'> = {
      confirmed: 0,
      rejected: 0,
      clawedBack: 0,
      clawbackShort: [],
      recovered: 0,
      notFound: [],
      alreadyDecided: 0,
    };
    const programId = await campaigns.defaultProgramId();
    // What earlier decisions left owed is collected first, so points earned since then go to it
    // before this run opens new debts.
    report.recovered = await settleOpenClawbacks(programId, actor);
    // One transaction per invoice: a failure on one row never undoes the others. A deadlock retries
    // the invoice with the same keys (withTransaction); the counts are taken from its final attempt.
    for (const row of rows) {
      const outcomes = await withTransaction(sql, async (tx) => {
        const sales = await repo.salesByInvoiceNorm(tx, programId, normalizeInvoice(row.invoice));
        const out: Array<Awaited<ReturnType<typeof decideOne>>> = [];
        for (const sale of sales) out.push(await decideOne(tx, sale, row.verdict, actor, 'sell-out import'));
        return out;
      });
      if (!outcomes.length) report.notFound.push(row.invoice);
      for (const r of outcomes) {
        if (r.outcome === 'confirmed') report.confirmed++;
        else if (r.outcome === 'rejected') report.rejected++;
        else if (r.outcome === 'clawed_back') {
          report.rejected++;
          report.clawedBack++;
          report.clawbackShort.push(...(r.short ?? []));
        } else report.alreadyDecided++;
      }
    }
    await audit(sql, actor, 'sales.sell_out_import', 'sales', report);
    return report;
  }

  async function decision(saleId: string, verdict: 'confirm' | 'reject', actor: string, note?: string): Promise<DecisionResult> {
    return withTransaction(sql, async (tx) => {
      const sale = await repo.getSale(tx, saleId, true);
      if (!sale) return { status: 'not_found' } as const;
      if (sale.status !== 'pending') return { status: 'already_decided', saleStatus: sale.status } as const;
      await decideOne(tx, sale, verdict, actor, note);
      await audit(tx, actor, verdict === 'confirm' ? 'sale.approve' : 'sale.reject', `sale:${saleId}`, { note: note ?? null });
      return { status: verdict === 'confirm' ? 'confirmed' : 'rejected', saleId } as const;
    });
  }

  async function progressLines(db: Db, participant: Participant, reader: { t: Translate; locale: Locale }): Promise<string[]> {
    const role = (participant.role ?? 'consumer') as ParticipantRole;
    if (!STAFF_ROLES.includes(role)) return [];
    const region = participant.profile?.region;
    const earner: Earner = {
      id: participant.id,
      programId: participant.programId,
      role,
      store: participant.store,
      region: typeof region === 'string' ? region : null,
    };
    return renderProgress(reader.t, reader.locale, await targets(db, earner));
  }

  return {
    offers,
    targets,
    progressLines,
    applySellOut,
    countOf: (db, participantId) => repo.countSalesOf(db, participantId),

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
      if (pending) await ledger.pendingCredit(db, earn);
      else await ledger.earn(db, earn);
      const bonuses = pending ? [] : await awardTargets(db, campaign.id, p.id, p.store ?? null, p.programId);
      const balance = await ledger.balance(db, p.programId, p.id);
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
        await audit(tx, actor, 'target.create', `target:${t.id}`, { campaignId, ...input });
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

/** One line per target: how far along it is, or that it is reached. */
export function renderProgress(t: Translate, locale: Locale, targets: TargetView[]): string[] {
  return targets.map((p) =>
    t(p.reached ? 'sales:progress_reached' : p.metric === 'units' ? 'sales:progress_units' : 'sales:progress_points', {
      campaign: campaignName({ name: p.campaignName, names: p.campaignNames }, locale),
      done: p.done,
      goal: p.goal,
      remaining: p.remaining,
    }),
  );
}

/** Thrown inside a savepoint to roll it back without an error reaching the caller. */
const ROLLBACK = Symbol('rollback');

/**
 * Runs `fn` in a savepoint of the caller's transaction (in a transaction of its own when handed the
 * pool); `ROLLBACK` thrown inside undoes it and yields false.
 */
async function savepoint(db: Db, fn: (sp: Db) => Promise<boolean>): Promise<boolean> {
  try {
    if (!('savepoint' in db)) return await withTransaction(db, (tx) => fn(tx));
    return await (db as postgres.TransactionSql).savepoint((sp) => fn(sp as unknown as Db));
  } catch (error) {
    if (error === ROLLBACK) return false;
    throw error;
  }
}
