/** Rejecting a receipt: the decision stored with its reason and note, the participant told. */
import type { Db } from '../../db/sql.js';
import * as repo from '../../db/receipts/receipts-repo.js';
import { audit } from '../../db/audit-repo.js';
import { atomically, reviewRefusal, type ReceiptsContext } from './context.js';
import { rejectedNotice } from './messages.js';
import type { RejectInput, RejectResult } from './types.js';

export function rejectReceipt(ctx: ReceiptsContext, db: Db, input: RejectInput): Promise<RejectResult> {
  return atomically(db, async (tx) => {
    const current = await repo.getReceipt(tx, input.receiptId, { forUpdate: true });
    if (!current) return { status: 'not_found' } as const;
    const refusal = reviewRefusal(current, input.reviewer);
    if (refusal) return refusal;
    if (current.status === 'approved' || current.status === 'rejected') return { status: 'already_decided', receipt: current } as const;
    const reason = input.reason ?? null;
    const note = input.note?.trim() || null;
    const receipt = (await repo.decide(tx, current.id, { status: 'rejected', reason, note, by: input.actor }, ctx.clock.now()))!;
    await audit(tx, input.actor, 'receipt.reject', `receipt:${receipt.id}`, { reason, note });
    await ctx.enqueueOutbound(tx, {
      participantId: receipt.participantId,
      kind: 'notice',
      dedupeKey: `receipt:${receipt.id}:decided`,
      message: (t) => rejectedNotice(t, { reason, note }),
    });
    return { status: 'rejected', receipt } as const;
  });
}
