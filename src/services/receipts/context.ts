/** What the receipts use cases share: their dependencies with defaults, and small helpers. */
import type { Db } from '../../db/sql.js';
import { isTransaction, withTransaction } from '../../db/sql.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import type { ReceiptRow } from '../../db/receipts/receipts-repo.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './image.js';
import type { ReceiptsDeps, Reviewer, ReviewRefusal } from './types.js';

export interface ReceiptsContext extends ReceiptsDeps {
  clock: Clock;
  limits: ImageLimits;
  similarDistance: number;
  maxAttempts: number;
}

export function receiptsContext(deps: ReceiptsDeps): ReceiptsContext {
  return {
    ...deps,
    clock: deps.clock ?? systemClock,
    limits: { ...DEFAULT_IMAGE_LIMITS, ...deps.limits },
    similarDistance: deps.similarDistance ?? 4,
    maxAttempts: deps.maxAttempts ?? 5,
  };
}

/** Runs `fn` in a savepoint of the caller's transaction, or in a transaction of its own, so a unique violation can be answered. */
export function atomically<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  if (isTransaction(db)) return db.savepoint((sp) => fn(sp)) as Promise<T>;
  return withTransaction(db as Parameters<typeof withTransaction>[0], (tx) => fn(tx));
}

/** A chat reviewer may not decide their own receipt, nor one of another program. */
export function reviewRefusal(receipt: ReceiptRow, reviewer: Reviewer | undefined): ReviewRefusal | null {
  if (!reviewer) return null;
  if (receipt.programId !== reviewer.programId) return { status: 'not_allowed', why: 'other_program' };
  if (receipt.participantId === reviewer.participantId) return { status: 'not_allowed', why: 'own_receipt' };
  return null;
}

/** A value read from a photo: NUL cannot be stored in Postgres text or jsonb. */
export const storable = (text: string): string => text.replace(/\u0000/g, '');

/** `YYYY-MM-DD` of an instant in a time zone. */
export const localDate = (at: Date, timeZone: string): string =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
