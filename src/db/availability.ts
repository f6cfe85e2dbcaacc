/**
 * Telling "the database is away" apart from "this work is wrong" (issue 25), and reporting the
 * former as one incident rather than an error per failed call.
 */
import type { Logger } from '../shared/logger.js';
import { incident } from '../shared/incidents.js';

/**
 * The database is away or did not answer in time (connection lost, refused, shut down, starting
 * up, a bounded wait ran out): nothing about the work itself is wrong, it may succeed later. The
 * outcome of a statement that was on the wire is unknown, which the inbox's dedupe and the
 * idempotency keys make safe to retry.
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'QUEUE_TIMEOUT',
  'QUERY_TIMEOUT',
  'CANCEL_UNANSWERED',
  'TRANSACTION_DEADLINE',
  '57P01', // admin_shutdown (fast stop, pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);

export function isUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (UNAVAILABLE_CODES.has((e as { code?: string }).code ?? '')) return true;
    if (e instanceof AggregateError && e.errors.some((x) => isUnavailable(x))) return true;
  }
  return false;
}

/**
 * A background loop's failure (a sweep, a tick, a claim): while the database is away it only counts
 * into the 'database' incident; anything else is logged as the error it is.
 */
export function reportDbFailure(logger: Logger, error: unknown, message: string, context: Record<string, unknown> = {}): void {
  if (isUnavailable(error)) incident(logger, 'database').fail(error, { via: message, ...context });
  else logger.error({ err: error, ...context }, message);
}
