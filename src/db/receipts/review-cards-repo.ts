/** Which reviewers were sent a receipt's review card: each gets it once. */
import type { Db } from '../sql.js';

export async function recordReviewCard(db: Db, receiptId: string, moderatorId: string): Promise<boolean> {
  const rows = await db.unsafe(
    `insert into receipt_review_cards (receipt_id, moderator_id) values ($1, $2) on conflict do nothing returning 1`,
    [receiptId, moderatorId],
  );
  return rows.length > 0;
}

export async function reviewCardModerators(db: Db, receiptId: string): Promise<string[]> {
  const rows = await db.unsafe<Array<{ moderatorId: string }>>(
    `select moderator_id from receipt_review_cards where receipt_id = $1`,
    [receiptId],
  );
  return rows.map((r) => r.moderatorId);
}
