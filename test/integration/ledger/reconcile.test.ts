import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, type Ledger } from '../../../src/services/ledger/index.js';
import { createReconciliation } from '../../../src/services/ledger/reconcile.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { openLedgerTestBed } from '../../helpers/ledger.js';

let db: TestDatabase;
let ledger: Ledger;
let programId: string;
const rec = createReconciliation();
const reason = { key: 'codes:earned' };
const kinds = (r: { problems: Array<{ kind: string; participantId?: string | null; transferId?: number | null }> }) =>
  r.problems.map((x) => `${x.kind}:${x.participantId ?? x.transferId ?? ''}`);
const point = async () => (await db.sql<{ verifiedId: string }[]>`select verified_id::text from ledger_check_point`)[0]!.verifiedId;
const maxId = async () => (await db.sql<{ m: string }[]>`select coalesce(max(id), 0)::text as m from ledger_transfers`)[0]!.m;

/** A participant with every kind of movement: credits with and without expiry, a spend, a held and a voided order, a pending credit confirmed and one dropped, an expired lot. */
async function busyParticipant(): Promise<string> {
  const p = { programId, participantId: randomUUID() };
  const k = randomUUID();
  await ledger.earn(db.sql, { ...p, amount: 50, source: 'code', key: `code:${k}`, reason, expiresAt: new Date(Date.now() + 1000) });
  await ledger.earn(db.sql, { ...p, amount: 30, source: 'bonus', key: `b:${k}`, reason, expiresAt: null });
  await ledger.spend(db.sql, { ...p, amount: 7, key: `s:${k}`, reason });
  await ledger.hold(db.sql, { ...p, amount: 11, key: `order:${k}:hold`, reason });
  await ledger.hold(db.sql, { ...p, amount: 5, key: `order:${k}:2:hold`, reason });
  await ledger.voidHold(db.sql, `order:${k}:2:hold`, {});
  await ledger.pendingCredit(db.sql, { ...p, amount: 9, source: 'receipt', key: `receipt:${k}`, reason });
  await ledger.confirmPending(db.sql, `receipt:${k}`, {});
  await ledger.pendingCredit(db.sql, { ...p, amount: 4, source: 'receipt', key: `receipt:${k}:b`, reason });
  await ledger.dropPending(db.sql, `receipt:${k}:b`, {});
  return p.participantId;
}

beforeAll(async () => {
  ({ db, ledger, programId } = await openLedgerTestBed());
});
afterAll(async () => {
  await db.drop();
});

describe('incremental reconciliation', () => {
  it('passes a healthy ledger, moves its point only to what a run saw a margin ago, and the full check agrees', async () => {
    for (let i = 0; i < 3; i++) await busyParticipant();
    await ledger.expireDueLots(new Date(Date.now() + 60_000));
    // with a margin, the first run only notes a candidate: a transaction may still hold a lower id
    expect(await rec.changes(db.sql, { marginMs: 60_000 })).toEqual({ ok: true, problems: [] });
    expect(await point()).toBe('0');
    expect(await rec.changes(db.sql, { marginMs: 0 })).toEqual({ ok: true, problems: [] });
    expect(await point()).toBe(await maxId());
    await busyParticipant();
    expect(await rec.changes(db.sql, { marginMs: 0 })).toEqual({ ok: true, problems: [] });
    expect(await point()).toBe(await maxId());
    const progress: number[] = [];
    expect(await rec.full(db.sql, { rangeSize: 7, onProgress: (p) => progress.push(p.done) })).toEqual({ ok: true, problems: [] });
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)).toBe(Number(await maxId()));
    expect((await ledger.check()).ok).toBe(true);
  });

  it('finds what changed since the point, keeps reporting it, and leaves old rows to the full check', async () => {
    await rec.full(db.sql);
    // an old, verified transfer edited behind the ledger's back: not among the changes
    const old = (await db.sql<{ id: string }[]>`select id::text from ledger_transfers where kind = 'earn' order by id limit 1`)[0]!.id;
    const tamper = async (q: string) =>
      db.sql.begin(async (tx) => {
        await tx`alter table ledger_entries disable trigger ledger_entries_append_only`;
        await tx.unsafe(q);
        await tx`alter table ledger_entries enable trigger ledger_entries_append_only`;
      });
    await tamper(`update ledger_entries set amount = amount + 1 where transfer_id = ${old} and amount > 0`);
    expect((await rec.changes(db.sql, { marginMs: 0 })).ok).toBe(true);

    // new rows after the point, one of them edited, and a cached balance bumped on a touched account
    const p = { programId, participantId: randomUUID() };
    const earned = await ledger.earn(db.sql, { ...p, amount: 10, source: 'code', key: `code:${randomUUID()}`, reason });
    await tamper(`update ledger_entries set amount = amount + 5 where transfer_id = ${earned.transfer.id} and amount > 0`);
    const q = { programId, participantId: randomUUID() };
    await ledger.earn(db.sql, { ...q, amount: 3, source: 'bonus', key: `b:${randomUUID()}`, reason });
    await db.sql`update ledger_accounts set held = held + 2 where ref = ${q.participantId}`;
    const before = await point();
    const found = await rec.changes(db.sql, { marginMs: 0 });
    expect(found.ok).toBe(false);
    expect(kinds(found)).toEqual(
      expect.arrayContaining([
        `unbalanced_transfer:${earned.transfer.id}`,
        `balance_drift:${p.participantId}`,
        `held_mismatch:${q.participantId}`,
        `lots_mismatch:${q.participantId}`,
      ]),
    );
    expect(await point()).toBe(before);
    expect((await rec.changes(db.sql, { marginMs: 0 })).ok).toBe(false);

    // the full check finds all of it, the old row included, as ledger_check() does
    const full = await rec.full(db.sql, { rangeSize: 5 });
    expect(kinds(full)).toEqual(
      expect.arrayContaining([
        `unbalanced_transfer:${old}`,
        `unbalanced_transfer:${earned.transfer.id}`,
        `balance_drift:${p.participantId}`,
        'global_imbalance:',
        `held_mismatch:${q.participantId}`,
      ]),
    );
    const legacy = kinds(await ledger.check());
    for (const k of legacy) expect(kinds(full)).toContain(k);
  });
});

describe('incremental reconciliation under concurrent writes', () => {
  it('never reports a problem while credits, spends and holds commit around it, moves its point meanwhile, and ends verified to the last transfer', async () => {
    const fresh = await createTestDatabase();
    const l = createLedger({ sql: fresh.sql });
    const [program] = await fresh.sql<{ id: string }[]>`select id from programs where slug = 'default'`;
    const people = Array.from({ length: 12 }, () => ({ programId: program!.id, participantId: randomUUID() }));
    let stop = false;
    const writers = people.map(async (p, w) => {
      for (let i = 0; !stop || i < 20; i++) {
        await l.earn(fresh.sql, { ...p, amount: 5 + (i % 7), source: 'code', key: `c:${w}:${i}`, reason });
        if (i % 3 === 0) await l.spend(fresh.sql, { ...p, amount: 3, key: `s:${w}:${i}`, reason });
        if (i % 5 === 0) await l.hold(fresh.sql, { ...p, amount: 2, key: `h:${w}:${i}`, reason });
        if (i % 10 === 0) await l.voidHold(fresh.sql, `h:${w}:${i}`, {});
      }
    });
    const problems: string[] = [];
    // a margin longer than any of these transactions stays open (in production, a minute)
    for (let r = 0; r < 12; r++) {
      problems.push(...kinds(await rec.changes(fresh.sql, { marginMs: 1000 })));
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const [mid] = await fresh.sql<{ v: string }[]>`select verified_id::text as v from ledger_check_point`;
    expect({ problems: problems.slice(0, 6), moved: Number(mid!.v) > 0 }).toEqual({ problems: [], moved: true });
    stop = true;
    await Promise.all(writers);
    problems.push(...kinds(await rec.changes(fresh.sql, { marginMs: 0 })));
    expect(problems).toEqual([]);
    const [pt] = await fresh.sql<{ v: string; m: string }[]>`
      select (select verified_id from ledger_check_point)::text as v, (select max(id) from ledger_transfers)::text as m`;
    expect(pt!.v).toBe(pt!.m);
    expect(await rec.full(fresh.sql, { rangeSize: 50 })).toEqual({ ok: true, problems: [] });
    expect((await l.check()).ok).toBe(true);
    await fresh.drop();
  });
});
