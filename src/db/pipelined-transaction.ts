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

export interface TransactionOptions {
  /** Settings for this transaction only, e.g. `{ plan_cache_mode: 'force_generic_plan' }`. */
  settings?: Record<string, string>;
}

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
  const reserved = await sql.reserve();
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
    const committed = reserved.unsafe('commit').execute();
    // Both settle before either is looked at: a failed final statement is the error to report.
    const [lastDone, commitDone] = await Promise.allSettled([last, committed, begun]);
    open = false;
    const didCommit = commitDone.status === 'fulfilled' && (commitDone.value as { command?: string }).command === 'COMMIT';
    if (lastDone.status === 'rejected') throw didCommit ? new CommittedWithoutLast(value, lastDone.reason) : lastDone.reason;
    if (commitDone.status === 'rejected') throw commitDone.reason;
    if (!didCommit) throw new RolledBack();
    return value;
  } catch (error) {
    if (open) await reserved.unsafe('rollback').catch(() => undefined);
    throw error;
  } finally {
    reserved.release();
  }
}
