import postgres from 'postgres';
import { retrying } from '../shared/retry.js';

export type Sql = postgres.Sql<Record<string, unknown>>;
/** A transaction handle or the pool: repos and services run on whichever they are handed. */
export type Db = Sql | postgres.TransactionSql<Record<string, unknown>>;

/**
 * bigint (int8) columns are parsed to JS numbers explicitly, refusing values that would lose
 * precision: points are integers and a silent rounding would be a lost point.
 */
const int8 = {
  to: 20,
  from: [20],
  serialize: (v: number | bigint | string) => String(v),
  parse: (v: string) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${v} exceeds the safe integer range`);
    return n;
  },
};

export interface SqlOptions {
  max?: number;
  /** Seconds a query or reserve may wait for a free connection (QUEUE_TIMEOUT after that). */
  queueTimeout?: number;
  /** Seconds a query may wait and run before it is cancelled (QUERY_TIMEOUT); 0: no limit. */
  queryTimeout?: number;
  /** Used by tests and the migration runner: quiet NOTICE messages. */
  onnotice?: (notice: postgres.Notice) => void;
  idleTimeout?: number;
  /** `punkto:<process id>` in a service process: claims it makes name it (db/liveness.ts). */
  applicationName?: string;
}

export function createSql(url: string, options: SqlOptions = {}): Sql {
  return postgres(url, {
    max: options.max ?? 10,
    idle_timeout: options.idleTimeout ?? 30,
    // Every wait bounded (issue 25): a server that went away or a network gone silent fails a
    // query within these, instead of leaving it (and the batch, poller or request behind it)
    // waiting for as long as TCP takes to notice. The query limit is generous: code batches of a
    // million rows and the ledger's maintenance are single long statements; the message path
    // has a deadline of its own (pipelined-transaction.ts).
    connect_timeout: 5,
    queue_timeout: options.queueTimeout ?? 10,
    query_timeout: options.queryTimeout ?? 120,
    keep_alive: 10,
    transform: postgres.camel,
    types: { int8 },
    onnotice: options.onnotice ?? (() => undefined),
    connection: { application_name: options.applicationName ?? 'punkto' },
  }) as unknown as Sql;
}

/** SQLSTATEs Postgres documents as "retry the transaction": serialization failure, deadlock. */
export const RETRYABLE_SQLSTATES = new Set(['40001', '40P01']);

export function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && RETRYABLE_SQLSTATES.has((error as { code?: string }).code ?? '');
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: string; constraint_name?: string };
  return e.code === '23505' && (constraint === undefined || e.constraint_name === constraint);
}

/**
 * Runs `fn` in a transaction, retrying on deadlock/serialization failure with jittered backoff.
 * Never maps those errors to business outcomes: they are retried with the same inputs (and so the
 * same idempotency keys) until `attempts` run out.
 */
export async function withTransaction<T>(
  sql: Sql,
  fn: (tx: postgres.TransactionSql<Record<string, unknown>>) => Promise<T>,
  attempts = 8,
): Promise<T> {
  return retrying(async () => (await sql.begin((tx) => fn(tx))) as T, { attempts, retryable: isRetryable });
}

/** A transaction (or a savepoint, or a member of a shared one) rather than the pool. */
export const isTransaction = (db: Db): db is postgres.TransactionSql<Record<string, unknown>> =>
  typeof (db as { savepoint?: unknown }).savepoint === 'function';

/** JSON text of a value to be stored as jsonb; throws for one that cannot be (a BigInt, a cycle). */
export function jsonText(value: unknown): string {
  const text = JSON.stringify(value);
  if (typeof text !== 'string') throw new TypeError(`not storable as JSON: ${typeof value}`);
  return text;
}
