/**
 * A transaction whose BEGIN and COMMIT travel with its first and last statements still commits
 * all or nothing: a failing body, a failing final statement and a failure the body swallowed each
 * leave nothing behind, and the connection goes back to the pool outside any transaction. A final
 * statement that fails on the client never reaches the server to abort it: that is never reported
 * as "nothing happened".
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { CommittedWithoutLast, pipelinedTransaction, RolledBack, TransactionDeadline } from '../../../src/db/pipelined-transaction.js';

let db: TestDatabase;
beforeAll(async () => {
  // One connection: whatever a transaction leaves on it, the next statement would see.
  db = await createTestDatabase({ migrated: false, max: 1 });
  await db.sql`create table notes (n int primary key, doc jsonb)`;
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await db.sql`truncate notes`;
});

const notes = async () => (await db.sql<{ n: number }[]>`select n from notes order by n`).map((r) => r.n);
/** SAVEPOINT outside a transaction block fails with 25P01: the pool's connection is not in one. */
const outsideTransaction = () =>
  db.sql.unsafe('savepoint probe').then(
    () => false,
    (e: { code?: string }) => e.code === '25P01',
  );

it('commits the body and its final statements together', async () => {
  const value = await pipelinedTransaction(db.sql, async (tx) => {
    await tx`insert into notes values (1)`;
    return { value: 'done', last: tx`insert into notes values (2)`.execute() };
  });
  expect(value).toBe('done');
  expect(await notes()).toEqual([1, 2]);
  expect(await outsideTransaction()).toBe(true);
});

it('a body that throws leaves nothing', async () => {
  await expect(
    pipelinedTransaction(db.sql, async (tx) => {
      await tx`insert into notes values (1)`;
      throw new Error('refused');
    }),
  ).rejects.toThrow('refused');
  expect(await notes()).toEqual([]);
  expect(await outsideTransaction()).toBe(true);
});

it('a failing final statement is the error, and the COMMIT behind it commits nothing', async () => {
  await expect(
    pipelinedTransaction(db.sql, async (tx) => {
      await tx`insert into notes values (1)`;
      return { value: null, last: tx`insert into notes values (1)`.execute() };
    }),
  ).rejects.toMatchObject({ code: '23505' });
  expect(await notes()).toEqual([]);
  expect(await outsideTransaction()).toBe(true);
});

it('a failure the body swallowed is not let through as a commit', async () => {
  await expect(
    pipelinedTransaction(db.sql, async (tx) => {
      await tx`insert into notes values (1)`;
      await tx`insert into notes values (1)`.catch(() => undefined);
      return { value: null };
    }),
  ).rejects.toBeInstanceOf(RolledBack);
  expect(await notes()).toEqual([]);
});

it('savepoints undo their own part only', async () => {
  await pipelinedTransaction(db.sql, async (tx) => {
    await tx`insert into notes values (1)`;
    await tx
      .savepoint(async (sp) => {
        await sp`insert into notes values (2)`;
        throw new Error('undo 2');
      })
      .catch(() => undefined);
    await tx.savepoint(async (sp) => sp`insert into notes values (3)`);
    return { value: null };
  });
  expect(await notes()).toEqual([1, 3]);
});

it('settings hold for the transaction only', async () => {
  const inside = await pipelinedTransaction(
    db.sql,
    async (tx) => {
      const [row] = await tx<{ mode: string }[]>`select current_setting('plan_cache_mode') as mode`;
      return { value: row!.mode };
    },
    { settings: { plan_cache_mode: 'force_generic_plan' } },
  );
  expect(inside).toBe('force_generic_plan');
  const [after] = await db.sql<{ mode: string }[]>`select current_setting('plan_cache_mode') as mode`;
  expect(after!.mode).toBe('auto');
  await expect(pipelinedTransaction(db.sql, async () => ({ value: 1 }), { settings: { 'x; drop table notes': 'y' } })).rejects.toThrow(
    'not a setting',
  );
});

it('a final statement that fails on the client rolls the whole transaction back (postgres.js 4 aborts it)', async () => {
  // postgres.js serialises a jsonb parameter as it builds the statement: a BigInt fails there and
  // never reaches the server. Since postgres.js 4 such a failure inside a transaction aborts it,
  // so the COMMIT behind it only ends it and nothing of the body is left.
  const error = await pipelinedTransaction(db.sql, async (tx) => {
    await tx`insert into notes values (1)`;
    const bad = tx.unsafe('insert into notes values (2, $1::jsonb)', [{ n: 1n }] as never[], { prepare: true });
    return { value: 'effects', last: Promise.all([bad, tx`insert into notes values (3)`.execute()]) };
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  expect(error).not.toBeInstanceOf(CommittedWithoutLast);
  expect(await notes()).toEqual([]);
  expect(await outsideTransaction()).toBe(true);
});

it('a transaction past its deadline fails, commits nothing, and leaves the pool working (issue 25)', async () => {
  const started = Date.now();
  const error = await pipelinedTransaction(
    db.sql,
    async (tx) => {
      await tx`insert into notes values (1)`;
      await tx`select pg_sleep(1.5)`;
      return { value: 'late', last: tx`insert into notes values (2)`.execute() };
    },
    { deadlineMs: 300 },
  ).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TransactionDeadline);
  expect(Date.now() - started).toBeLessThan(1400); // answered at the deadline, not when the body ended
  await new Promise((r) => setTimeout(r, 1500)); // the body runs out; it must not commit then
  expect(await notes()).toEqual([]);
  expect(await outsideTransaction()).toBe(true);
});

it('waiting for a connection counts against the deadline', async () => {
  // The only connection is held by a slow transaction: the second one cannot even start.
  const slow = pipelinedTransaction(db.sql, async (tx) => ({ value: await tx`select pg_sleep(0.8)` }), { deadlineMs: 5_000 });
  const waiting = await pipelinedTransaction(db.sql, async () => ({ value: 1 }), { deadlineMs: 200 }).catch((e: unknown) => e);
  expect(waiting).toBeInstanceOf(TransactionDeadline);
  await slow;
  expect(await notes()).toEqual([]);
});
