/**
 * The points ledger: the only way points move. Every operation is one database call (a plpgsql
 * function, see migrations/0002_ledger.sql) keyed by an idempotency key that names the business
 * operation. Every operation takes the database handle first: a transaction runs it inside the
 * caller's transaction, and the caller then owns retries on 40P01/40001 (retry the whole
 * transaction with the same keys); the pool runs it on its own and retries deadlocks and
 * serialization failures itself with the same key.
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
import type { CodeUse } from '../../db/codes/take-use.js';

export type * from '../../domain/ledger/types.js';
export type { CodeUse };

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

/** A code's credit that also answers what the participant can spend right after it (null: a replay). */
export type CodeUseEarned = EarnResult & { availableAfter: number | null };

export interface Ledger {
  earn(db: Db, input: EarnInput): Promise<EarnResult>;
  /**
   * Takes one use of a code and earns for it in one statement (batched with the other messages of
   * a group commit): nothing is credited, and null answered, when the code had no use left.
   */
  earnCodeUse(db: Db, use: CodeUse, input: EarnInput): Promise<CodeUseEarned | null>;
  pendingCredit(db: Db, input: PendingCreditInput): Promise<PendingResult>;
  /** Confirms the pending credit created under `key`: points become available. Exactly once. */
  confirmPending(db: Db, key: string, options?: ResolveOptions): Promise<ResolveResult>;
  dropPending(db: Db, key: string, options?: ResolveOptions): Promise<ResolveResult>;
  spend(db: Db, input: SpendInput): Promise<SpendResult>;
  hold(db: Db, input: HoldInput): Promise<HoldResult>;
  /** Points of the hold leave for good. Exactly once; a second call replays, after a void → already_resolved. */
  postHold(db: Db, holdKey: string, options?: ResolveOptions): Promise<ResolveResult>;
  /** Points of the hold come back (expired lots expire again at once). */
  voidHold(db: Db, holdKey: string, options?: ResolveOptions): Promise<ResolveResult>;
  adjust(db: Db, input: AdjustInput): Promise<AdjustResult>;
  reverse(db: Db, input: ReverseInput): Promise<ReverseResult>;
  /** Expires the remainder of every lot due at `now`, each lot exactly once. */
  expireDueLots(now?: Date): Promise<MaintenanceResult>;
  /** Voids holds whose holdExpiresAt has passed. */
  voidExpiredHolds(now?: Date): Promise<MaintenanceResult>;
  balance(db: Db, programId: string, participantId: string): Promise<Balance>;
  history(
    db: Db,
    programId: string,
    participantId: string,
    options?: { limit?: number; /** transferId: entries strictly older */ before?: number },
  ): Promise<HistoryEntry[]>;
  /** Reconciliation: transfers balance, cached balances equal entries, holds/pending/lots agree. */
  check(db?: Db): Promise<CheckResult>;
}

