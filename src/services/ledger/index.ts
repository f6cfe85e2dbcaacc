/**
 * The points ledger: the only way points move. Every operation is one database call (a plpgsql
 * function, see migrations/0002_ledger.sql) keyed by an idempotency key that names the business
 * operation. Pass `db` (a transaction) to run inside the caller's transaction: the caller then owns
 * retries on 40P01/40001 (retry the whole transaction with the same keys). Without `db` the call runs
 * on the pool and retries deadlocks/serialization failures itself with the same key.
 *
 * Repeating a key returns the original outcome with `replayed: true`; the same key with a different
 * amount, participant, kind, source or campaign throws AppError('idempotency_mismatch'). A refused
 * operation (`insufficient`) stores nothing, so its key can be used again later.
 */
import type { Db, Sql } from '../../db/sql.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type {
  Actor,
  AdjustResult,
  Balance,
  CheckResult,
  EarnResult,
  EarnSource,
  HistoryEntry,
  HoldResult,
  MaintenanceResult,
  PendingResult,
  Reason,
  ResolveResult,
  ReverseResult,
  SpendResult,
} from '../../domain/ledger/types.js';
import type { StatementPart } from '../../db/ledger/ledger-repo.js';

export type * from '../../domain/ledger/types.js';

export interface LedgerDeps {
  sql: Sql;
  clock?: Clock;
  logger?: Logger;
  /** Attempts for deadlock/serialization retries on the pool (default 8). */
  retryAttempts?: number;
}

export interface Participant {
  programId: string;
  participantId: string;
}

export interface EarnInput extends Participant {
  /** Positive integer. */
  amount: number;
  source: EarnSource;
  key: string;
  campaignId?: string | null;
  reason: Reason;
  /** When the lot expires; null = never; omitted = programs.point_validity_months from now (null there = never). */
  expiresAt?: Date | null;
  actor?: Actor | null;
}

/** Earned but awaiting confirmation; `expiresAt` applies from confirmation (omitted = program default then). */
export type PendingCreditInput = EarnInput;

export interface SpendInput extends Participant {
  amount: number;
  key: string;
  reason: Reason;
  campaignId?: string | null;
  actor?: Actor | null;
}

export interface HoldInput extends SpendInput {
  /** An unresolved hold past this instant is voided by the maintenance job. */
  holdExpiresAt?: Date | null;
}

export interface ResolveOptions {
  /** Defaults to the hold's / pending credit's reason. */
  reason?: Reason;
  actor?: Actor | null;
}

export interface AdjustInput extends Participant {
  /** Signed, non-zero: a credit creates a lot (program validity), a debit spends lots FIFO. */
  amount: number;
  key: string;
  actor: Actor;
  reason: Reason;
  /** For credits: lot expiry as in earn. */
  expiresAt?: Date | null;
}

export interface ReverseInput {
  /** Key of the transfer to reverse: earn, confirm, adjust, spend or post (a posted hold: pass the hold key). */
  transferKey: string;
  key: string;
  actor: Actor;
  reason: Reason;
}

export interface Ledger {
  earn(input: EarnInput, db?: Db): Promise<EarnResult>;
  /**
   * The same earn as part of a statement of the caller's (yielding jsonb), run on the caller's
   * transaction, so the credit can depend on a row that statement takes (one round trip instead of
   * two; see codes' take-and-credit). `read` turns the part's text into the result `earn` gives,
   * with what the participant can spend right after the credit (null when it was a replay).
   */
  earnCall(input: EarnInput): { call: StatementPart; read(text: string): EarnResult & { availableAfter: number | null } };
  pendingCredit(input: PendingCreditInput, db?: Db): Promise<PendingResult>;
  /** Confirms the pending credit created under `key`: points become available. Exactly once. */
  confirmPending(key: string, options?: ResolveOptions, db?: Db): Promise<ResolveResult>;
  dropPending(key: string, options?: ResolveOptions, db?: Db): Promise<ResolveResult>;
  spend(input: SpendInput, db?: Db): Promise<SpendResult>;
  hold(input: HoldInput, db?: Db): Promise<HoldResult>;
  /** Points of the hold leave for good. Exactly once; a second call replays, after a void → already_resolved. */
  postHold(holdKey: string, options?: ResolveOptions, db?: Db): Promise<ResolveResult>;
  /** Points of the hold come back (expired lots expire again at once). */
  voidHold(holdKey: string, options?: ResolveOptions, db?: Db): Promise<ResolveResult>;
  adjust(input: AdjustInput, db?: Db): Promise<AdjustResult>;
  reverse(input: ReverseInput, db?: Db): Promise<ReverseResult>;
  /** Expires the remainder of every lot due at `now`, each lot exactly once. */
  expireDueLots(now?: Date): Promise<MaintenanceResult>;
  /** Voids holds whose holdExpiresAt has passed. */
  voidExpiredHolds(now?: Date): Promise<MaintenanceResult>;
  balance(programId: string, participantId: string, db?: Db): Promise<Balance>;
  history(
    programId: string,
    participantId: string,
    options?: { limit?: number; /** transferId: entries strictly older */ before?: number },
    db?: Db,
  ): Promise<HistoryEntry[]>;
  /** Reconciliation: transfers balance, cached balances equal entries, holds/pending/lots agree. */
  check(db?: Db): Promise<CheckResult>;
}

export { createLedger } from './create-ledger.js';
