/**
 * Approving a receipt: the campaign's caps and budget reserved, the decision stored, the points
 * credited exactly once (`receipt:<id>:approve`), the participant told. A fiscal document is paid
 * once however many photos of it arrive.
 */
import type { Db } from '../../db/sql.js';
import { isUniqueViolation } from '../../db/sql.js';
import * as repo from '../../db/receipts/receipts-repo.js';
import type { ReceiptRow } from '../../db/receipts/receipts-repo.js';
import { documentPaid } from '../../db/receipts/duplicates-repo.js';
import { audit } from '../../db/audit-repo.js';
import { AppError } from '../../shared/errors.js';
import type { AwardGate } from '../campaigns/index.js';
import { atomically, reviewRefusal, type ReceiptsContext } from './context.js';
import { approvedNotice } from './messages.js';
import type { ApproveInput, ApproveResult } from './types.js';

/** Thrown inside the approval's transaction so a partial cap reservation is rolled back with it. */
export class CampaignLimit extends Error {
  constructor(
    readonly limit: Exclude<AwardGate['status'], 'ok'>,
    readonly receipt: ReceiptRow,
  ) {
    super(`campaign limit: ${limit}`);
  }
}

/** The approval on `tx` (a transaction or savepoint the caller rolls back on a throw). */
export async function approveIn(ctx: ReceiptsContext, tx: Db, input: ApproveInput): Promise<ApproveResult> {
  const { ledger, campaigns } = ctx;
  const current = await repo.getReceipt(tx, input.receiptId, { forUpdate: true });
  if (!current) return { status: 'not_found' };
  const refusal = reviewRefusal(current, input.reviewer);
  if (refusal) return refusal;
  if (current.status === 'approved' || current.status === 'rejected') return { status: 'already_decided', receipt: current };
  const points = input.points ?? current.computedPoints;
  if (points === null || points === undefined || points <= 0) return { status: 'points_required', receipt: current };
  if (current.documentKey && (await documentPaid(tx, current.programId, current.documentKey))) {
    return { status: 'document_already_paid', receipt: current };
  }
  if (current.campaignId && campaigns) {
    const campaign = await campaigns.get(current.campaignId, tx);
    if (campaign) {
      const gate = await campaigns.reserveAward(tx, campaign, current.participantId, points);
      if (gate.status !== 'ok') throw new CampaignLimit(gate.status, current);
    }
  }
  const receipt = (await repo.decide(tx, current.id, { status: 'approved', points, by: input.actor }, ctx.clock.now()))!;
  // The key names the business operation: a retried or repeated approval can never pay twice.
  await ledger.earn(tx, {
    programId: receipt.programId,
    participantId: receipt.participantId,
    amount: points,
    source: 'receipt',
    key: `receipt:${receipt.id}:approve`,
    campaignId: receipt.campaignId,
    reason: { key: 'receipts:ledger_reason', params: { ref: receipt.fields.G ?? receipt.fields.nNF ?? receipt.id.slice(0, 8) } },
    actor: input.actor,
  });
  const balance = await ledger.balance(tx, receipt.programId, receipt.participantId);
  await audit(tx, input.actor, 'receipt.approve', `receipt:${receipt.id}`, { points });
  await ctx.enqueueOutbound(tx, {
    participantId: receipt.participantId,
    kind: 'notice',
    dedupeKey: `receipt:${receipt.id}:decided`,
    message: (t) => approvedNotice(t, { points, balance: balance.available }),
  });
  return { status: 'approved', receipt, balance: balance.available };
}

/** A campaign whose budget a refused approval found spent is marked so (outside the rolled-back work). */
export async function markBudgetExhausted(ctx: ReceiptsContext, db: Db, campaignId: string | null): Promise<void> {
  if (!ctx.campaigns || !campaignId) return;
  const campaign = await ctx.campaigns.get(campaignId, db);
  if (campaign) await atomically(db, (tx) => ctx.campaigns!.budgetExhausted(tx, campaign));
}

export async function approveReceipt(ctx: ReceiptsContext, db: Db, input: ApproveInput): Promise<ApproveResult> {
  if (input.points !== undefined && (!Number.isSafeInteger(input.points) || input.points <= 0)) {
    throw new AppError('invalid_input', 'points must be a positive integer');
  }
  try {
    return await atomically(db, (tx) => approveIn(ctx, tx, input));
  } catch (error) {
    if (error instanceof CampaignLimit) {
      if (error.limit === 'budget_exhausted') await markBudgetExhausted(ctx, db, error.receipt.campaignId);
      return { status: 'campaign_limit', limit: error.limit, receipt: error.receipt };
    }
    // Two receipts of one document approved at the same instant: the index lets one through.
    if (isUniqueViolation(error)) {
      const receipt = await repo.getReceipt(db, input.receiptId);
      if (receipt) return { status: 'document_already_paid', receipt };
    }
    throw error;
  }
}
