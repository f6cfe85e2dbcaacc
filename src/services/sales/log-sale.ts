/**
 * A staff member logs a sale: points from the campaign's product rules, an invoice number refused
 * when the same participant repeats one, pending points until a manager approves when the campaign
 * asks for approval, and target bonuses at once when it does not.
 */
import type { Db } from '../../db/sql.js';
import * as campaignsRepo from '../../db/campaigns/repo.js';
import * as repo from '../../db/sales/repo.js';
import { pointsWithMultiplier } from '../../domain/campaigns/campaign.js';
import { normalizeInvoice } from '../../domain/sales/sales.js';
import { saleKey, type SalesArea } from './area.js';
import { awardTargets } from './award-targets.js';
import { listOffers, targetsOf } from './list-offers.js';
import type { LogSaleInput, LogSaleResult } from './types.js';

export async function logSale(db: Db, area: SalesArea, input: LogSaleInput): Promise<LogSaleResult> {
  const { campaigns, ledger } = area;
  const p = input.participant;
  const offer = (await listOffers(db, area, p)).find((o) => o.productId === input.productId);
  if (!offer) return { status: 'unknown_product' };
  const invoiceNorm = normalizeInvoice(input.invoice);
  const earlier = await repo.saleByInvoice(db, p.id, invoiceNorm);
  if (earlier) return { status: 'duplicate_invoice', at: earlier.createdAt };
  const campaign = (await campaignsRepo.getCampaign(db, offer.campaignId))!;
  const now = area.clock.now();
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
    key: saleKey(sale.id),
    campaignId: campaign.id,
    reason: { key: 'sales:reason_sale', params: { sku: offer.sku, quantity: input.quantity, invoice: sale.invoice } },
  };
  if (pending) await ledger.pendingCredit(db, earn);
  else await ledger.earn(db, earn);
  const bonuses = pending ? [] : await awardTargets(db, area, { campaignId: campaign.id, participantId: p.id, store: p.store ?? null, programId: p.programId });
  const balance = await ledger.balance(db, p.programId, p.id);
  return {
    status: 'logged',
    saleId: sale.id,
    points,
    pending,
    offer,
    quantity: input.quantity,
    balance: { available: balance.available, pending: balance.pending },
    targets: await targetsOf(db, area, p),
    bonuses: bonuses.filter((b) => b.participantId === p.id).map(({ targetId, points: n }) => ({ targetId, points: n })),
  };
}
