/**
 * ledger_credit_many() (migrations/0016) answers and writes what ledger_credit() would, called once
 * per credit in the order given: the same outcomes (transfer ids, expiries and the balance after
 * each credit), the same transfers, entries, lots and balances, replays included, and it holds
 * up under many concurrent calls on the same accounts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { createLedger } from '../../../src/services/ledger/index.js';
import { credit, creditCall, creditManyCall, type CreditArgs } from '../../../src/db/ledger/ledger-repo.js';
import type { Db } from '../../../src/db/sql.js';

let bulk: TestDatabase;
let oneByOne: TestDatabase;
let programId: string;
/** Each database has a default program of its own id; credits are written with the bulk one's and sent with the right one. */
const programOf = new Map<TestDatabase, string>();
const into = (db: TestDatabase, list: CreditArgs[]) => list.map((a) => ({ ...a, programId: programOf.get(db)! }));
const now = new Date('2026-06-01T10:00:00Z');
const people = [randomUUID(), randomUUID(), randomUUID()];
const campaign = randomUUID();

const args = (over: Partial<CreditArgs>): CreditArgs => ({
  kind: 'earn',
  programId,
  participantId: people[0]!,
  amount: 10,
  key: `k:${randomUUID()}`,
  hash: 'h',
  source: 'code',
  campaignId: null,
  reasonKey: 'codes:reason_code',
  reasonParams: { code: 'K7QM' },
  expiryMode: 'default',
  expiresAt: null,
  actor: null,
  now,
  ...over,
});

/** ledger_credit_many over `list`, crediting the positions in `ords` (1-based). */
async function many(db: Db, list: CreditArgs[], ords: number[]): Promise<Array<[number, unknown]>> {
  const call = creditManyCall(list.map(creditCall), 1, '$15::int8[]');
  const rows = await db.unsafe<{ ord: number; outcome: string }[]>(
    `select ord::int, outcome::text from ${call.sql}`,
    [...call.params, ords] as never[],
  );
  return rows.map((r) => [r.ord, JSON.parse(r.outcome)]);
}

async function sequential(db: Db, list: CreditArgs[], ords: number[]): Promise<Array<[number, unknown]>> {
  const out: Array<[number, unknown]> = [];
  for (const o of [...ords].sort((a, b) => a - b)) out.push([o, await credit(db, list[o - 1]!)]);
  return out;
}

/** Everything the ledger holds, without the account ids (an upsert may use up identity values). */
async function ledgerState(db: Db) {
  return db`
    select
      (select json_agg(json_build_object('kind', kind, 'ref', ref, 'posted', posted, 'pending', pending,
         'lifetime', lifetime_earned) order by kind, ref) from ledger_accounts) as accounts,
      (select json_agg(json_build_object('id', t.id, 'key', t.key, 'kind', t.kind, 'amount', t.amount,
         'direction', t.direction, 'expires', t.expires_at, 'expiry_mode', t.expiry_mode, 'campaign', t.campaign_id,
         'source', t.source, 'reason', t.reason_params, 'account', a.ref, 'counter', c.kind || ':' || c.ref) order by t.id)
         from ledger_transfers t join ledger_accounts a on a.id = t.account_id
         join ledger_accounts c on c.id = t.counter_account_id) as transfers,
      (select json_agg(json_build_object('transfer', t.key, 'account', a.kind || ':' || a.ref, 'amount', e.amount)
         order by e.transfer_id, e.amount) from ledger_entries e join ledger_accounts a on a.id = e.account_id
         join ledger_transfers t on t.id = e.transfer_id) as entries,
      (select json_agg(json_build_object('transfer', t.key, 'account', a.ref, 'amount', l.amount,
         'remaining', l.remaining, 'expires', l.expires_at) order by l.transfer_id)
         from ledger_lots l join ledger_accounts a on a.id = l.account_id join ledger_transfers t on t.id = l.transfer_id) as lots`;
}

/** Without ids and program ids: a rolled-back bulk attempt uses up identity values, and each database has its own program. */
const withoutIds = (x: unknown): unknown =>
  Array.isArray(x)
    ? x.map(withoutIds)
    : x && typeof x === 'object'
      ? Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'id' && k !== 'programId').map(([k, v]) => [k, withoutIds(v)]))
      : x;

beforeAll(async () => {
  [bulk, oneByOne] = await Promise.all([createTestDatabase({ max: 24 }), createTestDatabase({ max: 4 })]);
  for (const db of [bulk, oneByOne]) {
    const [p] = await db.sql<{ id: string }[]>`update programs set point_validity_months = 12 where slug = 'default' returning id`;
    programOf.set(db, p!.id);
    // an account that already has points, and one credit both databases share
    await credit(db.sql, { ...args({ participantId: people[0]!, amount: 100, key: 'shared:existing', hash: 'x' }), programId: p!.id });
  }
  programId = programOf.get(bulk)!;
});
afterAll(async () => {
  await Promise.all([bulk?.drop(), oneByOne?.drop()]);
});

describe('ledger_credit_many', () => {
  it('answers and writes what one ledger_credit per credit would, in order, balances after each', async () => {
    const list = [
      args({ participantId: people[0]!, amount: 10, campaignId: campaign }),
      args({ participantId: people[1]!, amount: 25 }), // no account yet
      args({ participantId: people[0]!, amount: 7, expiryMode: 'at', expiresAt: new Date('2027-01-31T23:59:59Z') }),
      args({ participantId: people[2]!, amount: 40, kind: 'pending' }),
      args({ participantId: people[0]!, amount: 999 }), // not picked
      args({ participantId: people[1]!, amount: 3, kind: 'adjust', source: null, actor: 'admin:test', expiryMode: 'never' }),
      args({ participantId: people[0]!, amount: 5, campaignId: campaign }),
    ];
    const ords = [1, 2, 3, 4, 6, 7];
    const [together, alone] = await Promise.all([
      bulk.sql.begin((tx) => many(tx, into(bulk, list), ords)),
      oneByOne.sql.begin((tx) => sequential(tx, into(oneByOne, list), ords)),
    ]);
    expect(together).toEqual(alone);
    expect(together.map(([, o]) => (o as { available: number }).available)).toEqual([110, 25, 117, 0, 28, 122]);
    expect(together[0]![1]).toMatchObject({ status: 'ok', expiresAt: '2027-06-01T10:00:00+00:00' });
    const [a, b] = await Promise.all([ledgerState(bulk.sql), ledgerState(oneByOne.sql)]);
    expect(a).toEqual(b);
    for (const db of [bulk, oneByOne]) expect((await createLedger({ sql: db.sql }).check()).ok).toBe(true);
  });

  it('a key already used, or twice in one call, is a replay: credited one by one, same answers', async () => {
    const list = [
      args({ participantId: people[2]!, amount: 11 }),
      args({ participantId: people[0]!, amount: 100, key: 'shared:existing', hash: 'x' }), // replay, same request
      args({ participantId: people[0]!, amount: 50, key: 'shared:existing', hash: 'other' }), // same key, other request
      args({ participantId: people[1]!, amount: 4, key: 'twice' }),
      args({ participantId: people[1]!, amount: 4, key: 'twice' }),
    ];
    const ords = [1, 2, 3, 4, 5];
    const [together, alone] = await Promise.all([
      bulk.sql.begin((tx) => many(tx, into(bulk, list), ords)),
      oneByOne.sql.begin((tx) => sequential(tx, into(oneByOne, list), ords)),
    ]);
    expect(withoutIds(together)).toEqual(withoutIds(alone));
    expect(together.map(([, o]) => (o as { status: string }).status)).toEqual(['ok', 'replay', 'mismatch', 'ok', 'replay']);
    const [a, b] = await Promise.all([ledgerState(bulk.sql), ledgerState(oneByOne.sql)]);
    expect(withoutIds(a)).toEqual(withoutIds(b));
    for (const db of [bulk, oneByOne]) expect((await createLedger({ sql: db.sql }).check()).ok).toBe(true);
  });

  it('refuses a non-positive amount or a debit kind, and credits nothing', async () => {
    const before = await ledgerState(bulk.sql);
    await expect(many(bulk.sql, [args({}), args({ amount: 0 })], [1, 2])).rejects.toMatchObject({ code: '22023' });
    await expect(many(bulk.sql, [args({}), args({ kind: 'spend' as never })], [1, 2])).rejects.toThrow(/spend is not a credit/);
    expect(await many(bulk.sql, [args({ amount: 0 })], [])).toEqual([]);
    expect(await ledgerState(bulk.sql)).toEqual(before);
  });

  it('40 concurrent calls crediting the same accounts in different orders: every point once', async () => {
    const accounts = Array.from({ length: 5 }, () => randomUUID());
    const calls = Array.from({ length: 40 }, (_, c) => {
      const order = [...accounts].sort(() => Math.random() - 0.5);
      return order.map((participantId, i) => args({ participantId, amount: 1 + ((c + i) % 3) }));
    });
    const results = await Promise.all(calls.map((list) => bulk.sql.begin((tx) => many(tx, list, list.map((_, i) => i + 1)))));
    expect(results.flat()).toHaveLength(200);
    const ledger = createLedger({ sql: bulk.sql });
    for (const participantId of accounts) {
      const expected = calls.flat().filter((a) => a.participantId === participantId).reduce((t, a) => t + a.amount, 0);
      expect((await ledger.balance(bulk.sql, programId, participantId)).available).toBe(expected);
    }
    expect((await ledger.check()).ok).toBe(true);
  });
});
