/** The receipts service: its use cases (one file each) over one shared context. */
import * as repo from '../../db/receipts/receipts-repo.js';
import { getRules, upsertRules } from '../../db/receipts/rules-repo.js';
import { programOfCampaign } from '../../db/campaigns/repo.js';
import { ReceiptRules, StoredReceiptRules } from '../../domain/receipts/index.js';
import { AppError } from '../../shared/errors.js';
import { receiptsContext } from './context.js';
import { intakeReceipt } from './intake-receipt.js';
import { readReceipt } from './read-receipt.js';
import { approveReceipt } from './approve-receipt.js';
import { rejectReceipt } from './reject-receipt.js';
import type { ReceiptsDeps, ReceiptsService } from './types.js';

export function createReceipts(deps: ReceiptsDeps): ReceiptsService {
  const ctx = receiptsContext(deps);
  const { sql, media } = ctx;
  return {
    intake: (db, input) => intakeReceipt(ctx, db, input),
    process: (receiptId) => readReceipt(ctx, receiptId),
    approve: (db, input) => approveReceipt(ctx, db, input),
    reject: (db, input) => rejectReceipt(ctx, db, input),
    get: (db, receiptId) => repo.getReceipt(db, receiptId),
    list: (q) => repo.listReceipts(sql, { ...q, limit: Math.min(Math.max(q.limit ?? 50, 1), 200) }),
    image: (receipt) => media.get(receipt.mediaKey),

    async setRules(campaignId, raw) {
      const rules = ReceiptRules.parse(raw);
      const programId = await programOfCampaign(sql, campaignId);
      if (!programId) throw new AppError('not_found', `Campaign ${campaignId} not found`);
      await upsertRules(sql, programId, campaignId, rules);
      return rules;
    },
    async getRules(campaignId) {
      const row = await getRules(sql, campaignId);
      return row ? StoredReceiptRules.parse(row.rules) : null;
    },
    countOf: (db, participantId) => repo.countReceiptsOf(db, participantId),

    async forgetParticipant(db, participantId) {
      const rows = await repo.forgetReceiptsOf(db, participantId);
      for (const key of new Set(rows.filter((r) => !r.shared).map((r) => r.mediaKey))) await media.delete(key);
      return rows.length;
    },
    stale: (olderThanMs) => repo.staleReceived(sql, olderThanMs),
  };
}
