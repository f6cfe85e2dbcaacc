/**
 * Receipt lifecycle and the moderator's vocabulary.
 *
 * received ──(worker reads it)──► pending ──► approved | rejected
 *                      └──────────────────────► approved (auto-approval)
 * A decision is final: approving twice, or a second moderator deciding, changes nothing.
 */
export const RECEIPT_STATUSES = ['received', 'pending', 'approved', 'rejected'] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/** Reasons a moderator picks from; their texts are in locales/<lng>/receipts.json `reason.<code>`. */
export const REJECT_REASONS = [
  'unreadable',
  'not_a_receipt',
  'duplicate',
  'outside_campaign',
  'total_too_low',
  'shop_not_eligible',
  'weekly_limit',
  'product_not_eligible',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const isRejectReason = (v: string): v is RejectReason => (REJECT_REASONS as readonly string[]).includes(v);

/**
 * Moderator buttons, at most 64 bytes (Telegram callback data): `rcpt:a:<id>` approve with the
 * computed points, `rcpt:r:<id>` show the reasons, `rcpt:x:<id>:<n>` reject with reason number n.
 */
export type ReviewAction =
  | { action: 'approve'; receiptId: string }
  | { action: 'reasons'; receiptId: string }
  | { action: 'reject'; receiptId: string; reason: RejectReason }
  | { action: 'points'; receiptId: string };

export const CHOICE_PREFIX = 'rcpt:';

export function encodeReviewAction(a: ReviewAction): string {
  switch (a.action) {
    case 'approve':
      return `rcpt:a:${a.receiptId}`;
    case 'reasons':
      return `rcpt:r:${a.receiptId}`;
    case 'points':
      return `rcpt:p:${a.receiptId}`;
    case 'reject':
      return `rcpt:x:${a.receiptId}:${REJECT_REASONS.indexOf(a.reason)}`;
  }
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const PATTERN = new RegExp(`^rcpt:([arxp]):(${UUID})(?::(\\d+))?$`);

export function decodeReviewAction(value: string): ReviewAction | null {
  const m = PATTERN.exec(value);
  if (!m) return null;
  const [, kind, receiptId] = m as unknown as [string, string, string, string | undefined];
  if (kind === 'a') return { action: 'approve', receiptId };
  if (kind === 'r') return { action: 'reasons', receiptId };
  if (kind === 'p') return { action: 'points', receiptId };
  const reason = REJECT_REASONS[Number(m[3])];
  return reason ? { action: 'reject', receiptId, reason } : null;
}
