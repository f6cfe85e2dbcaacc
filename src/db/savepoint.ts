/** Savepoints on the caller's transaction, or a transaction of their own when handed the pool. */
import type postgres from 'postgres';
import type { Db, Sql } from './sql.js';
import { withTransaction } from './sql.js';

/** Thrown inside `inSavepoint` to roll the savepoint back without an error reaching the caller. */
export const ROLLBACK = Symbol('rollback');

export const inTransaction = (db: Db): boolean => typeof (db as { savepoint?: unknown }).savepoint === 'function';

/** Runs `fn` in a savepoint of `db`'s transaction; `ROLLBACK` thrown inside undoes it and yields false. */
export async function inSavepoint(db: Db, fn: (sp: Db) => Promise<boolean>): Promise<boolean> {
  try {
    if (!inTransaction(db)) return await withTransaction(db as Sql, (tx) => fn(tx));
    return await (db as postgres.TransactionSql).savepoint((sp) => fn(sp as unknown as Db));
  } catch (error) {
    if (error === ROLLBACK) return false;
    throw error;
  }
}

/** Runs `fn` on `db` when it is already a transaction, else in a new (retried) one. */
export const runInTransaction = <T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> =>
  inTransaction(db) ? fn(db) : withTransaction(db as Sql, (tx) => fn(tx));
