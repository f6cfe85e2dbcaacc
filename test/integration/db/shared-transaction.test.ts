/**
 * Members of one shared transaction run at once on its connection; a member's savepoint holds the
 * others' statements back, so rolling it back undoes that member's work and nobody else's.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { shareTransaction } from '../../../src/db/shared-transaction.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ migrated: false, max: 4 });
  await db.sql`create table notes (member text not null, n int not null)`;
});
afterAll(async () => {
  await db?.drop();
});

const pause = () => new Promise((r) => setTimeout(r, 1));

it('a rolled-back savepoint undoes its member only, while the others keep writing', async () => {
  await db.sql`truncate notes`;
  await db.sql.begin(async (tx) => {
    const shared = shareTransaction(tx);
    const writer = async (member: string) => {
      const db = shared.member();
      for (let n = 0; n < 30; n++) {
        await db`insert into notes values (${member}, ${n})`;
        if (n % 7 === 0) await pause();
      }
    };
    const refused = async () => {
      const db = shared.member();
      await db`insert into notes values ('kept', 1)`;
      await pause();
      await db
        .savepoint(async (sp) => {
          await sp`insert into notes values ('undone', 1)`;
          await pause(); // the writers' statements arrive now and must wait
          await db`insert into notes values ('undone', 2)`; // its own outer handle passes
          await pause();
          await sp`insert into notes values ('undone', 3)`;
          throw new Error('refused');
        })
        .catch((e: Error) => expect(e.message).toBe('refused'));
      await db`insert into notes values ('kept', 2)`;
    };
    await Promise.all([writer('a'), writer('b'), refused(), writer('c')]);
  });
  const rows = await db.sql<{ member: string; n: number }[]>`select member, count(*)::int as n from notes group by member order by member`;
  expect(rows).toEqual([
    { member: 'a', n: 30 },
    { member: 'b', n: 30 },
    { member: 'c', n: 30 },
    { member: 'kept', n: 2 },
  ]);
});

it('two members with savepoints take turns; nested savepoints of one member work', async () => {
  await db.sql`truncate notes`;
  await db.sql.begin(async (tx) => {
    const shared = shareTransaction(tx);
    const member = async (name: string, keep: boolean) => {
      const db = shared.member();
      await db
        .savepoint(async (sp) => {
          await sp`insert into notes values (${name}, 1)`;
          await pause();
          await sp
            .savepoint(async (inner) => {
              await inner`insert into notes values (${name}, 2)`;
              throw new Error('inner');
            })
            .catch(() => undefined);
          await sp`insert into notes values (${name}, 3)`;
          if (!keep) throw new Error('outer');
        })
        .catch(() => undefined);
    };
    await Promise.all([member('p', true), member('q', false), member('r', true)]);
  });
  const rows = await db.sql<{ member: string; n: number }[]>`select member, n from notes order by member, n`;
  expect(rows).toEqual([
    { member: 'p', n: 1 },
    { member: 'p', n: 3 },
    { member: 'r', n: 1 },
    { member: 'r', n: 3 },
  ]);
});

it('queries stay ordinary query objects: fragments, helpers and values() work through a member', async () => {
  await db.sql.begin(async (tx) => {
    const m = shareTransaction(tx).member();
    const where = m`where n > ${1}`;
    await m`insert into notes ${m([{ member: 'h', n: 5 }, { member: 'h', n: 6 }], 'member', 'n')}`;
    const [row] = await m`select count(*)::int as c from notes ${where} and member = ${'h'}`;
    expect(row!.c).toBe(2);
    const values = await m`select ${'x'}::text, ${m.json({ a: 1 })}::jsonb`.values();
    expect(values).toEqual([['x', { a: 1 }]]);
    const [unsafe] = await m.unsafe<{ one: number }[]>('select $1::int as one', [1], { prepare: true });
    expect(unsafe!.one).toBe(1);
  });
});
