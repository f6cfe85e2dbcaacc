/** A receipt that waits for a decision: each of the program's reviewers gets its review card once. */
import type { Db } from '../../db/sql.js';
import type { ReceiptRow } from '../../db/receipts/receipts-repo.js';
import { recordReviewCard } from '../../db/receipts/review-cards-repo.js';
import type { ReceiptsContext } from './context.js';
import { reviewCard } from './messages.js';

export async function notifyReviewers(ctx: ReceiptsContext, db: Db, receipt: ReceiptRow): Promise<void> {
  const { participants } = ctx;
  const [owner, program] = await Promise.all([
    participants.getById(db, receipt.participantId),
    participants.program(db, receipt.programId),
  ]);
  // Managers may decide receipts too, so they get the card as moderators do.
  const reviewers = [
    ...(await participants.withRole(db, 'moderator', receipt.programId)),
    ...(await participants.withRole(db, 'manager', receipt.programId)),
  ];
  for (const m of reviewers) {
    if (m.id === receipt.participantId) continue; // nobody reviews their own receipt
    if (!(await recordReviewCard(db, receipt.id, m.id))) continue;
    await ctx.enqueueOutbound(db, {
      participantId: m.id,
      kind: 'notice',
      dedupeKey: `receipt:${receipt.id}:card:${m.id}`,
      message: (t, locale) => reviewCard(t, locale, receipt, { name: owner?.name ?? null, timeZone: program.timeZone }),
    });
  }
}
