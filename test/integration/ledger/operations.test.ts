import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../helpers/db.js';
import { openLedgerTestBed } from '../../helpers/ledger.js';
import type { Ledger } from '../../../src/services/ledger/index.js';
import { fixedClock } from '../../../src/shared/clock.js';
import { AppError } from '../../../src/shared/errors.js';

let db: TestDatabase;
let ledger: Ledger;
let programId: string;
const clock = fixedClock('2026-01-10T12:00:00Z');
const reason = { key: 'codes:earned', params: { code_label: 'ABC' } };
const days = (n: number) => n * 24 * 3600 * 1000;
const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  ({ db, ledger, programId } = await openLedgerTestBed({ clock }));
});
afterAll(async () => {
  const result = await ledger.check();
  expect(result).toEqual({ ok: true, problems: [] });
  await db.drop();
});

const someone = () => ({ programId, participantId: randomUUID() });

describe('earn, spend and balance', () => {
  it('credits points, spends them and shows the history with its reasons', async () => {
    const p = someone();
    const earned = await ledger.earn(db.sql, { ...p, amount: 120, source: 'code', key: `code:${randomUUID()}`, reason });
    expect(earned.status).toBe('earned');
    expect(earned.transfer).toMatchObject({ amount: 120, kind: 'earn', source: 'code', replayed: false });
    expect(earned.transfer.reason).toEqual(reason);

    const spent = await ledger.spend(db.sql, { ...p, amount: 50, key: `order:${randomUUID()}`, reason: { key: 'rewards:redeemed' } });
    expect(spent.status).toBe('spent');
    const tooMuch = await ledger.spend(db.sql, { ...p, amount: 71, key: `order:${randomUUID()}`, reason: { key: 'rewards:redeemed' } });
    expect(tooMuch).toEqual({ status: 'insufficient', available: 70 });

    const balance = await ledger.balance(db.sql, p.programId, p.participantId);
    expect(balance).toMatchObject({ available: 70, held: 0, pending: 0, lifetimeEarned: 120, expiringSoon: null });
    const history = await ledger.history(db.sql, p.programId, p.participantId, { limit: 10 });
    expect(history.map((h) => [h.kind, h.amount])).toEqual([
      ['spend', -50],
      ['earn', 120],
    ]);
    expect(history[1]!.reason).toEqual(reason);
    const older = await ledger.history(db.sql, p.programId, p.participantId, { limit: 10, before: history[0]!.transferId });
    expect(older.map((h) => h.kind)).toEqual(['earn']);
  });

  it('answers a participant it has never seen with zeros and refuses their spend', async () => {
    const p = someone();
    expect(await ledger.balance(db.sql, p.programId, p.participantId)).toEqual({
      available: 0, held: 0, pending: 0, lifetimeEarned: 0, expiringSoon: null,
    });
    expect(await ledger.spend(db.sql, { ...p, amount: 1, key: `s:${randomUUID()}`, reason })).toEqual({ status: 'insufficient', available: 0 });
  });

  it('refuses amounts that are not positive whole numbers', async () => {
    const p = someone();
    for (const amount of [0, -5, 1.5, Number.NaN]) {
      await expect(ledger.earn(db.sql, { ...p, amount, source: 'bonus', key: `b:${randomUUID()}`, reason })).rejects.toMatchObject({ code: 'invalid_input' });
    }
  });
});

describe('idempotency', () => {
  it('replays a repeated key and refuses it for another amount or participant', async () => {
    const p = someone();
    const key = `receipt:${randomUUID()}:approve`;
    const first = await ledger.earn(db.sql, { ...p, amount: 30, source: 'receipt', key, reason });
    const again = await ledger.earn(db.sql, { ...p, amount: 30, source: 'receipt', key, reason });
    expect(again.transfer).toMatchObject({ id: first.transfer.id, replayed: true });
    await expect(ledger.earn(db.sql, { ...p, amount: 31, source: 'receipt', key, reason })).rejects.toBeInstanceOf(AppError);
    await expect(ledger.earn(db.sql, { ...someone(), amount: 30, source: 'receipt', key, reason })).rejects.toMatchObject({ code: 'idempotency_mismatch' });
    await expect(ledger.spend(db.sql, { ...p, amount: 30, key, reason })).rejects.toMatchObject({ code: 'idempotency_mismatch' });
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(30);
  });

  it('replays a spend even when the balance would no longer allow it', async () => {
    const p = someone();
    await ledger.earn(db.sql, { ...p, amount: 10, source: 'bonus', key: `b:${randomUUID()}`, reason });
    const key = `order:${randomUUID()}`;
    const first = await ledger.spend(db.sql, { ...p, amount: 8, key, reason });
    const again = await ledger.spend(db.sql, { ...p, amount: 8, key, reason });
    expect(again).toMatchObject({ status: 'spent', transfer: { id: first.status === 'spent' ? first.transfer.id : -1, replayed: true } });
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(2);
  });

  it('runs inside the caller’s transaction and leaves nothing when it rolls back', async () => {
    const p = someone();
    const key = `code:${randomUUID()}`;
    await expect(
      db.sql.begin(async (tx) => {
        await ledger.earn(tx, { ...p, amount: 5, source: 'code', key, reason });
        expect((await ledger.balance(tx, p.programId, p.participantId)).available).toBe(5);
        throw new Error('reply could not be stored');
      }),
    ).rejects.toThrow('reply could not be stored');
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(0);
    const r = await ledger.earn(db.sql, { ...p, amount: 5, source: 'code', key, reason });
    expect(r.transfer.replayed).toBe(false);
  });
});

describe('holds', () => {
  it('reserves points at once and posts or voids exactly once', async () => {
    const p = someone();
    await ledger.earn(db.sql, { ...p, amount: 100, source: 'sale', key: `sale:${randomUUID()}`, reason });
    const holdKey = `order:${randomUUID()}:hold`;
    const held = await ledger.hold(db.sql, { ...p, amount: 60, key: holdKey, reason: { key: 'rewards:reserved' } });
    expect(held.status).toBe('held');
    expect(await ledger.balance(db.sql, p.programId, p.participantId)).toMatchObject({ available: 40, held: 60 });
    expect(await ledger.hold(db.sql, { ...p, amount: 41, key: `order:${randomUUID()}:hold`, reason })).toEqual({ status: 'insufficient', available: 40 });

    const posted = await ledger.postHold(db.sql, holdKey);
    expect(posted).toMatchObject({ status: 'posted', transfer: { kind: 'post', amount: 60, relatedKey: holdKey } });
    expect(await ledger.postHold(db.sql, holdKey)).toMatchObject({ status: 'posted', transfer: { replayed: true } });
    expect(await ledger.voidHold(db.sql, holdKey)).toMatchObject({ status: 'already_resolved', resolution: 'posted' });
    expect(await ledger.balance(db.sql, p.programId, p.participantId)).toMatchObject({ available: 40, held: 0 });

    const second = `order:${randomUUID()}:hold`;
    await ledger.hold(db.sql, { ...p, amount: 40, key: second, reason });
    expect(await ledger.voidHold(db.sql, second)).toMatchObject({ status: 'voided' });
    expect(await ledger.postHold(db.sql, second)).toMatchObject({ status: 'already_resolved', resolution: 'voided' });
    expect(await ledger.balance(db.sql, p.programId, p.participantId)).toMatchObject({ available: 40, held: 0 });
    expect(await ledger.postHold(db.sql, `order:${randomUUID()}:hold`)).toEqual({ status: 'not_found' });
  });

  it('voids holds whose time ran out', async () => {
    const p = someone();
    await ledger.earn(db.sql, { ...p, amount: 10, source: 'bonus', key: `b:${randomUUID()}`, reason });
    const key = `order:${randomUUID()}:hold`;
    await ledger.hold(db.sql, { ...p, amount: 7, key, reason, holdExpiresAt: new Date(clock.now().getTime() + days(2)) });
    expect((await ledger.voidExpiredHolds(new Date(clock.now().getTime() + days(1)))).count).toBe(0);
    const swept = await ledger.voidExpiredHolds(new Date(clock.now().getTime() + days(3)));
    expect(swept.count).toBeGreaterThanOrEqual(1);
    expect(await ledger.balance(db.sql, p.programId, p.participantId)).toMatchObject({ available: 10, held: 0 });
    expect(await ledger.postHold(db.sql, key)).toMatchObject({ status: 'already_resolved', resolution: 'voided' });
  });
});

describe('pending credits', () => {
  it('shows pending points apart and confirms or drops them once', async () => {
    const p = someone();
    const a = `sale:${randomUUID()}`;
    const b = `sale:${randomUUID()}`;
    await ledger.pendingCredit(db.sql, { ...p, amount: 25, source: 'sale', key: a, reason });
    await ledger.pendingCredit(db.sql, { ...p, amount: 15, source: 'sale', key: b, reason });
    expect(await ledger.balance(db.sql, p.programId, p.participantId)).toMatchObject({ available: 0, pending: 40, lifetimeEarned: 0 });
    expect(await ledger.confirmPending(db.sql, a)).toMatchObject({ status: 'confirmed', transfer: { amount: 25 } });
    expect(await ledger.dropPending(db.sql, b, { actor: 'admin:anna', reason: { key: 'sales:rejected' } })).toMatchObject({ status: 'dropped' });
    expect(await ledger.confirmPending(db.sql, b)).toMatchObject({ status: 'already_resolved', resolution: 'dropped' });
    expect(await ledger.confirmPending(db.sql, a)).toMatchObject({ status: 'confirmed', transfer: { replayed: true } });
    expect(await ledger.balance(db.sql, p.programId, p.participantId)).toMatchObject({ available: 25, pending: 0, lifetimeEarned: 25 });
    const history = await ledger.history(db.sql, p.programId, p.participantId);
    expect(history.map((h) => [h.kind, h.amount, h.pendingAmount])).toEqual([
      ['drop', 0, -15],
      ['confirm', 25, -25],
      ['pending', 0, 15],
      ['pending', 0, 25],
    ]);
    expect(history[0]!.reason.key).toBe('sales:rejected');
  });
});

describe('adjustments and reversals', () => {
  it('adjusts both ways with an actor and refuses to overdraw', async () => {
    const p = someone();
    await ledger.adjust(db.sql, { ...p, amount: 20, key: `adj:${randomUUID()}`, actor: 'admin:anna', reason: { key: 'admin:goodwill' } });
    expect(await ledger.adjust(db.sql, { ...p, amount: -21, key: `adj:${randomUUID()}`, actor: 'admin:anna', reason })).toEqual({ status: 'insufficient', available: 20 });
    const down = await ledger.adjust(db.sql, { ...p, amount: -5, key: `adj:${randomUUID()}`, actor: 'admin:anna', reason });
    expect(down).toMatchObject({ status: 'adjusted', transfer: { actor: 'admin:anna', amount: 5 } });
    const history = await ledger.history(db.sql, p.programId, p.participantId);
    expect(history.map((h) => h.amount)).toEqual([-5, 20]);
    await expect(ledger.adjust(db.sql, { ...p, amount: 0, key: `adj:${randomUUID()}`, actor: 'admin:anna', reason })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('reverses a transfer at most once', async () => {
    const p = someone();
    const earnKey = `code:${randomUUID()}`;
    await ledger.earn(db.sql, { ...p, amount: 50, source: 'code', key: earnKey, reason });
    const spendKey = `order:${randomUUID()}`;
    await ledger.spend(db.sql, { ...p, amount: 20, key: spendKey, reason });

    const undoSpend = await ledger.reverse(db.sql, { transferKey: spendKey, key: `rev:${spendKey}`, actor: 'admin:anna', reason });
    expect(undoSpend).toMatchObject({ status: 'reversed', transfer: { kind: 'reverse', amount: 20, relatedKey: spendKey } });
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(50);
    expect(await ledger.reverse(db.sql, { transferKey: spendKey, key: `rev:${spendKey}`, actor: 'admin:anna', reason })).toMatchObject({
      status: 'reversed', transfer: { replayed: true },
    });
    expect(await ledger.reverse(db.sql, { transferKey: spendKey, key: `rev2:${spendKey}`, actor: 'admin:anna', reason })).toMatchObject({
      status: 'already_reversed',
    });

    await ledger.spend(db.sql, { ...p, amount: 40, key: `order:${randomUUID()}`, reason });
    // only 10 left: the 50 earned cannot all be taken back
    expect(await ledger.reverse(db.sql, { transferKey: earnKey, key: `rev:${earnKey}`, actor: 'admin:anna', reason })).toEqual({
      status: 'insufficient', available: 10,
    });
    expect(await ledger.reverse(db.sql, { transferKey: `rev:${spendKey}`, key: `rev:rev`, actor: 'admin:anna', reason })).toEqual({
      status: 'not_reversible', kind: 'reverse',
    });
    expect(await ledger.reverse(db.sql, { transferKey: 'nope', key: `rev:nope`, actor: 'admin:anna', reason })).toEqual({ status: 'not_found' });
  });

  it('reverses a fulfilled order through its hold key', async () => {
    const p = someone();
    await ledger.earn(db.sql, { ...p, amount: 30, source: 'bonus', key: `b:${randomUUID()}`, reason });
    const holdKey = `order:${randomUUID()}:hold`;
    await ledger.hold(db.sql, { ...p, amount: 30, key: holdKey, reason });
    await ledger.postHold(db.sql, holdKey);
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(0);
    expect(await ledger.reverse(db.sql, { transferKey: holdKey, key: `${holdKey}:refund`, actor: 'admin:anna', reason })).toMatchObject({ status: 'reversed' });
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(30);
  });
});

describe('append-only', () => {
  it('refuses to update or delete transfers and entries', async () => {
    const p = someone();
    await ledger.earn(db.sql, { ...p, amount: 1, source: 'bonus', key: `b:${randomUUID()}`, reason });
    await expect(db.sql`update ledger_transfers set amount = 1000`).rejects.toMatchObject({ code: '55000' });
    await expect(db.sql`delete from ledger_entries`).rejects.toMatchObject({ code: '55000' });
    await expect(db.sql`truncate ledger_lot_allocations cascade`).rejects.toMatchObject({ code: '55000' });
  });
});
