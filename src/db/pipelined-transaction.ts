/**
 * A transaction that sends its BEGIN together with its first statement and its COMMIT together
 * with its last ones, instead of waiting a round trip for each. postgres.js's `sql.begin` awaits
 * BEGIN before running the body and awaits the body before sending COMMIT; on the dialog engine's
 * path that was two of six round trips per message batch, and every round trip costs both sides
 * a socket write, a read and a wake-up (on this kind of machine about 55 µs of client CPU and 35 µs
 * of server CPU, measured with `select 1` in a loop).
 *
 * The body runs on a reserved connection and answers `{ value, last }`: `last` is the promise of
 * its final statements, already handed over and not awaited, so the COMMIT goes out right behind
 * them. A failure anywhere rolls back: a failed final statement aborts the transaction, and the
 * COMMIT behind it then only ends it (Postgres answers ROLLBACK), which is checked as well, so a
 * statement whose error the body swallowed can never let a half transaction pass as committed.
 *
 * That holds for a statement that reached the server. One that fails on the client (postgres.js
 * serialises parameters as it writes them, so a BigInt in a jsonb parameter fails there) never
 * arrives, and the COMMIT behind it commits the rest. So the final statements must not be able to
 * fail on the client: make their parameters text before building them, in code that throws out of
 * the body rather than rejecting `last` (the dialog engine's writeTurns does). Should one fail so
 * anyway, the answer is CommittedWithoutLast, never an error that reads as "nothing happened".
 *
 * Savepoints work as in postgres.js (`tx.savepoint(fn)`), on the same connection.
 *
 * `settings` are SET LOCAL for the transaction, sent in the same message as BEGIN (one simple
 * query: no round trip and no reply of their own).
 *
 * A deadline bounds the whole transaction, reserve to COMMIT (issue 25): a batch that cannot finish
 * (the server went away mid-batch, a lock held for minutes) rejects with TransactionDeadline, and
 * its connection is closed rather than returned to the pool, so nothing it sent can commit later.
 * Whether a COMMIT already sent took effect is unknown then; the callers' dedupe (the inbox,
 * idempotency keys) makes running the work again safe.
 */
import type postgres from 'postgres';
import type { Sql } from './sql.js';

type Tx = postgres.TransactionSql<Record<string, unknown>>;

export interface Finished<T> {
  value: T;
  /** The body's final statements, handed over and not awaited; the COMMIT follows them. */
  last?: Promise<unknown>;
}

export class RolledBack extends Error {
  constructor() {
    super('the transaction was rolled back at COMMIT: one of its statements had failed');
  }
}

/** The transaction committed, but one of its final statements did not reach the server. */
export class CommittedWithoutLast<T = unknown> extends Error {
  constructor(
    /** The body's value: its effects are committed. */
    readonly value: T,
    override readonly cause: unknown,
  ) {
    super('the transaction committed without one of its final statements, which failed on the client', { cause });
  }
}

/** The transaction did not finish within its deadline; its connection was closed. */
export class TransactionDeadline extends Error {
  readonly code = 'TRANSACTION_DEADLINE';
  constructor(ms: number) {
    super(`the transaction did not finish within ${ms} ms`);
  }
}

export interface TransactionOptions {
  /** Settings for this transaction only, e.g. `{ plan_cache_mode: 'force_generic_plan' }`. */
  settings?: Record<string, string>;
  /** The whole transaction, waiting for a connection included (ms); default 15 s. */
  deadlineMs?: number;
}

export const DEFAULT_DEADLINE_MS = 15_000;

const SETTING_NAME = /^[a-z_]+$/;
const SETTING_VALUE = /^[a-z0-9_.]+$/i;

function beginText(settings: Record<string, string> | undefined): string {
  let text = 'begin';
  for (const [name, value] of Object.entries(settings ?? {})) {
    if (!SETTING_NAME.test(name) || !SETTING_VALUE.test(value)) throw new Error(`not a setting: ${name} = ${value}`);
    text += `; set local ${name} = ${value}`;
  }
  return text;
}

export async function pipelinedTransaction<T>(
  sql: Sql,
  body: (tx: Tx) => Promise<Finished<T>>,
  options: TransactionOptions = {},
): Promise<T> {
  const begin = beginText(options.settings);
  const ms = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  let timer: NodeJS.Timeout | undefined;
  let expired = false;
  const reserving = sql.reserve();
  const run = reserving.then((reserved) => {
    // Late: the caller has been answered; the connection is only given back (closed if mid-transaction).
    if (expired) return void reserved.release();
    return inTransaction(reserved, begin, body, ms, () => expired);
  });
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      expired = true;
      // A reserve still waiting is withdrawn, so it never takes a connection for nobody.
      void reserving.cancel();
      reject(new TransactionDeadline(ms));
    }, ms);
  });
  run.catch(() => undefined);
  try {
    return (await Promise.race([run, deadline])) as T;
  } finally {
    clearTimeout(timer);
  }
}

async function inTransaction<T>(
  reserved: postgres.ReservedSql<Record<string, unknown>>,
  begin: string,
  body: (tx: Tx) => Promise<Finished<T>>,
  ms: number,
  expired: () => boolean,
): Promise<T> {
  let savepoints = 0;
  const tx = Object.assign(reserved, {
    async savepoint(fn: (sp: Tx) => unknown) {
      const name = `s${++savepoints}`;
      await reserved.unsafe(`savepoint ${name}`);
      try {
        const result = await fn(tx);
        await reserved.unsafe(`release savepoint ${name}`);
        return result;
      } catch (error) {
        await reserved.unsafe(`rollback to savepoint ${name}`);
        throw error;
      }
    },
  }) as unknown as Tx;

  let open = true;
  try {
    // Handed over now, so it leaves in the same write as the body's first statement.
    const begun = reserved.unsafe(begin).execute();
    begun.catch(() => undefined);
    const { value, last } = await body(tx);
    // Past the deadline the caller was told it failed: it must not commit behind its back.
    if (expired()) throw new TransactionDeadline(ms);
    const committed = reserved.unsafe('commit').execute();
    // Both settle before either is looked at: a failed final statement is the error to report.
    const [lastDone, commitDone] = await Promise.allSettled([last, committed, begun]);
    open = false;
    const didCommit = commitDone.status === 'fulfilled' && (commitDone.value as { command?: string }).command === 'COMMIT';
    if (lastDone.status === 'rejected') throw didCommit ? new CommittedWithoutLast(value, lastDone.reason) : lastDone.reason;
    // postgres.js 4 rejects a COMMIT that the server answered with ROLLBACK.
    if (commitDone.status === 'rejected' && (commitDone.reason as { code?: string }).code === 'TRANSACTION_ROLLED_BACK') throw new RolledBack();
    if (commitDone.status === 'rejected') throw commitDone.reason;
    if (!didCommit) throw new RolledBack();
    return value;
  } catch (error) {
    // Bounded like every statement; on a connection the server closed it just fails.
    if (open && !expired()) await reserved.unsafe('rollback').catch(() => undefined);
    throw error;
  } finally {
    reserved.release();
  }
}
