/**
 * Ledger vocabulary: what moves points and what callers get back. Points are integers everywhere
 * (bigint columns parsed to safe JS numbers); nothing here is floating point.
 */

/** Where earned points come from. */
export type EarnSource = 'code' | 'receipt' | 'sale' | 'bonus' | 'referral' | 'adjustment';

/**
 * What a transfer did. `hold` reserves points (available drops at once) and is resolved exactly
 * once by `post` (points leave) or `void` (points come back). `pending` is a credit awaiting
 * confirmation, resolved once by `confirm` (points arrive) or `drop`.
 */
export type TransferKind =
  | 'earn'
  | 'spend'
  | 'hold'
  | 'post'
  | 'void'
  | 'pending'
  | 'confirm'
  | 'drop'
  | 'adjust'
  | 'reverse'
  | 'expire';

/** An i18n key plus its params, so history reads well in any language ("codes:earned", {code: "…"}). */
export interface Reason {
  key: string;
  params?: Record<string, unknown>;
}

export interface Transfer {
  id: number;
  /** The idempotency key naming the business operation (`code:<id>`, `order:<id>:hold`). */
  key: string;
  kind: TransferKind;
  programId: string;
  participantId: string;
  /** Always positive; the kind says which way it moved. */
  amount: number;
  source: EarnSource | null;
  campaignId: string | null;
  reason: Reason;
  actor: string | null;
  /** When the earned lot expires (earn/confirm/adjust credits); null = never or not a credit. */
  expiresAt: Date | null;
  /** For holds: when an unresolved hold is voided by the maintenance job. */
  holdExpiresAt: Date | null;
  /** For post/void/confirm/drop: the hold or pending credit resolved; for reverse: the reversed transfer. */
  relatedKey: string | null;
  createdAt: Date;
  /** True when this call repeated an earlier key and got the original transfer back. */
  replayed: boolean;
}

/** Who did it: `admin:<tokenName>`, `participant:<id>`, `system`. */
export type Actor = string;

export interface Balance {
  /** posted − held: what the participant can spend now. */
  available: number;
  /** Reserved by open holds (reward orders awaiting fulfilment). */
  held: number;
  /** Earned but awaiting confirmation (sales under review). */
  pending: number;
  /** Everything ever credited (earn, confirmed pending, positive adjustments) minus reversed credits. */
  lifetimeEarned: number;
  /** The next lot(s) to expire: the amount expiring at the earliest expiry instant. */
  expiringSoon: { amount: number; at: Date } | null;
}

export interface HistoryEntry {
  transferId: number;
  key: string;
  kind: TransferKind;
  /** Change of the available balance (negative for spend/hold/expire, 0 for post/pending/drop). */
  amount: number;
  /** Change of the pending balance (pending: +, confirm/drop: −). */
  pendingAmount: number;
  at: Date;
  source: EarnSource | null;
  campaignId: string | null;
  reason: Reason;
  expiresAt: Date | null;
}

export type LedgerProblemKind =
  | 'unbalanced_transfer'
  | 'balance_drift'
  | 'held_mismatch'
  | 'pending_mismatch'
  | 'lots_mismatch'
  | 'lot_allocation_mismatch'
  | 'negative_available'
  /** A row pointing at a transfer, lot or account that does not exist (or the wrong account). */
  | 'dangling_reference'
  /** A transfer, entry or allocation breaking a shape rule (kind vs direction, resolution, reversal; zero amounts). */
  | 'malformed_transfer'
  /** A lot whose remaining points are below zero or above its amount. */
  | 'malformed_lot'
  /** A system account (issuance, redemption, …) with a stored balance: theirs are derived, never stored. */
  | 'malformed_account'
  | 'global_imbalance';

export interface LedgerProblem {
  kind: LedgerProblemKind;
  /** The account or transfer concerned (account: participant account id; transfer: id). */
  accountId?: number | null;
  transferId?: number | null;
  programId?: string | null;
  participantId?: string | null;
  expected?: number | null;
  actual?: number | null;
}

export interface CheckResult {
  ok: boolean;
  problems: LedgerProblem[];
}

// ---- results (expected business outcomes are unions, not exceptions) ----

export type EarnResult = { status: 'earned'; transfer: Transfer };
export type PendingResult = { status: 'pending'; transfer: Transfer };
export type SpendResult = { status: 'spent'; transfer: Transfer } | { status: 'insufficient'; available: number };
export type HoldResult = { status: 'held'; transfer: Transfer } | { status: 'insufficient'; available: number };

/** post/void of a hold, confirm/drop of a pending credit. */
export type ResolveResult =
  | { status: 'posted' | 'voided' | 'confirmed' | 'dropped'; transfer: Transfer; /** the hold or pending credit */ original: Transfer }
  /** Resolved the other way before (voided when posting, …); `resolution` is what happened. */
  | { status: 'already_resolved'; resolution: 'posted' | 'voided' | 'confirmed' | 'dropped'; transfer: Transfer }
  | { status: 'not_found' };

export type AdjustResult =
  | { status: 'adjusted'; transfer: Transfer }
  | { status: 'insufficient'; available: number };

export type ReverseResult =
  | { status: 'reversed'; transfer: Transfer }
  | { status: 'insufficient'; available: number }
  /** The transfer was reversed before, under another key. */
  | { status: 'already_reversed'; transfer: Transfer }
  | { status: 'not_reversible'; kind: TransferKind }
  | { status: 'not_found' };

export interface MaintenanceResult {
  /** How many transfers the run created (lots expired / holds voided). */
  count: number;
  points: number;
}
