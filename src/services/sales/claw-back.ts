/**
 * Taking back points of a sale found invalid after it was paid: the sale's own points and the
 * bonuses of targets it no longer completes. What the participant already spent stays owed in
 * `clawbacks`, and later imports collect it (`settleOpenClawbacks`).
 */
import type { Db, Sql } from '../../db/sql.js';
import { withTransaction } from '../../db/sql.js';
import * as campaignsRepo from '../../db/campaigns/repo.js';
import * as repo from '../../db/sales/repo.js';
import { campaignName, type Campaign } from '../../domain/campaigns/campaign.js';
import type { Translate } from '../../i18n/index.js';
import { bonusKey, pointsText, releaseAward, saleKey, type SalesArea } from './area.js';
import type { ClawbackShort } from './types.js';

/**
 * Takes back what a clawback still owes: the whole paid transfer by a reversal when the points are
 * there, else what is available now (a debit adjustment); the rest stays owed.
 */
async function collect(tx: Db, area: SalesArea, cb: repo.ClawbackRow, actor: string, invoice: string): Promise<{ taken: number; due: number }> {
  const { ledger, clock } = area;
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
      area.logger?.warn({ clawbackId: cb.id, status: r.status }, 'clawback: paid transfer not reversible');
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
    await releaseAward(tx, area, cb.campaignId, cb.participantId, taken, cb.reservedAt);
  }
  return { taken, due };
}

/** The sentence about the points of a clawback: all taken, some taken and the rest owed, or all owed. */
const takenText = (t: Translate, r: { taken: number; due: number }) =>
  r.due === 0
    ? t('sales:clawback_taken_all', { points: pointsText(t, r.taken) })
    : r.taken > 0
      ? t('sales:clawback_taken_part', { taken: pointsText(t, r.taken), due: pointsText(t, r.due) })
      : t('sales:clawback_taken_none', { due: pointsText(t, r.due) });

/**
 * A confirmed sale was rejected: take its points back and withdraw the bonuses of targets it no
 * longer completes. The participant (and store colleagues who lose a bonus) are told what was
 * taken and what stays owed.
 */
export async function clawBack(tx: Db, area: SalesArea, sale: repo.SaleRow, actor: string): Promise<ClawbackShort[]> {
  const now = area.clock.now();
  const short: ClawbackShort[] = [];
  const key = saleKey(sale.id);
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
  const r = await collect(tx, area, cb, actor, sale.invoice);
  if (r.due > 0) short.push({ saleId: sale.id, participantId: sale.participantId, kind: 'sale', due: r.due });
  await area.notifier?.notifyParticipant(tx, sale.participantId, (t) => ({
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
      const b = await collect(tx, area, bonus, actor, sale.invoice);
      if (b.due > 0) short.push({ saleId: sale.id, participantId: award.participantId, kind: 'bonus', due: b.due });
      campaign ??= await campaignsRepo.getCampaign(tx, sale.campaignId);
      const c = campaign!;
      await area.notifier?.notifyParticipant(tx, award.participantId, (t, locale) => ({
        text: `${t('sales:bonus_revoked_notice', { invoice: sale.invoice, campaign: campaignName(c, locale) })} ${takenText(t, b)}`,
      }));
    }
  }
  return short;
}

/** Collects what earlier clawbacks still owe, each in its own transaction; returns the points taken. */
export async function settleOpenClawbacks(sql: Sql, area: SalesArea, programId: string, actor: string): Promise<number> {
  let recovered = 0;
  for (const id of await repo.openClawbacks(sql, programId)) {
    recovered += await withTransaction(sql, async (tx) => {
      const cb = await repo.lockOpenClawback(tx, id);
      if (!cb) return 0;
      const sale = (await repo.getSale(tx, cb.saleId))!;
      const r = await collect(tx, area, cb, actor, sale.invoice);
      if (r.taken > 0) {
        await area.notifier?.notifyParticipant(tx, cb.participantId, (t) => ({
          text: t(r.due ? 'sales:clawback_recovered_part' : 'sales:clawback_recovered', {
            invoice: sale.invoice,
            points: pointsText(t, r.taken),
            due: pointsText(t, r.due),
          }),
        }));
      }
      return r.taken;
    });
  }
  return recovered;
}
