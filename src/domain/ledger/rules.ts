/** Pure rules of the ledger: input validation and the idempotency fingerprint. */
import { hash } from 'node:crypto';
import { AppError } from '../../shared/errors.js';

/** Points are positive safe integers; anything else is a caller bug, not a business outcome. */
export function assertPoints(amount: number, what = 'amount'): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw new AppError('invalid_input', `${what} must be a positive integer number of points`, { details: { amount } });
  }
}

export function assertKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
    throw new AppError('invalid_input', 'an idempotency key is 1–200 characters naming the business operation');
  }
}

/**
 * What an idempotency key stands for: a repeat with the same key must carry the same fingerprint.
 * Reason texts are left out on purpose (a retry may phrase its reason differently); who and how
 * much are in.
 */
export function requestHash(parts: ReadonlyArray<string | number | null | undefined>): string {
  // one-shot hash: the same digest as createHash().update().digest(), without the stream object
  return hash('sha256', JSON.stringify(parts.map((p) => p ?? null)), 'hex').slice(0, 32);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Programs, participants and campaigns are uuids; a malformed id is refused before the database. */
export function assertId(value: string | null | undefined, what: string): void {
  if (value == null) return;
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new AppError('invalid_input', `${what} must be a uuid`, { details: { [what]: value } });
  }
}
