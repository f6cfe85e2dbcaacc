import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../helpers/db.js';
import { openLedgerTestBed } from '../../helpers/ledger.js';
import type { Ledger } from '../../../src/services/ledger/index.js';
import { fixedClock } from '../../../src/shared/clock.js';

let db: TestDatabase;
let ledger: Ledger;
let programId: string;
const clock = fixedClock('2026-03-01T10:00:00Z');
const reason = { key: 'codes:earned' };
const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  ({ db, ledger, programId } = await openLedgerTestBed({ clock }));
});
afterAll(async () => {
  expect(await ledger.check()).toEqual({ ok: true, problems: [] });
  await db.drop();
});

const someone = () => ({ programId, participantId: randomUUID() });
const earn = (p: { programId: string; participantId: string }, amount: number, expiresAt: Date | null) =>
  ledger.earn(db.sql, { ...p, amount, source: 'code', key: `code:${randomUUID()}`, reason, expiresAt });

describe('expiry', () => {
  it('spends the lot that expires first and expires only what is left of each lot', async () => {
    const p = someone();
    // earned in this order, expiring in another
    await earn(p, 100, at('2026-12-31T23:00:00Z'));
    await earn(p, 30, at('2026-06-30T22:00:00Z'));
    await earn(p, 50, null);
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).expiringSoon).toEqual({ amount: 30, at: at('2026-06-30T22:00:00Z') });

    await ledger.spend(db.sql, { ...p, amount: 40, key: `order:${randomUUID()}`, reason });
    // 30 from the June lot, 10 from the December lot
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).expiringSoon).toEqual({ amount: 90, at: at('2026-12-31T23:00:00Z') });

    await ledger.expireDueLots(at('2026-07-01T00:00:00Z'));
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(140);

    const result = await ledger.expireDueLots(at('2027-01-01T00:00:00Z'));
    expect(result.count).toBeGreaterThanOrEqual(1);
    const balance = await ledger.balance(db.sql, p.programId, p.participantId);
    expect(balance).toMatchObject({ available: 50, expiringSoon: null, lifetimeEarned: 180 });
    const history = await ledger.history(db.sql, p.programId, p.participantId);
    expect(history[0]).toMatchObject({ kind: 'expire', amount: -90, reason: { key: 'ledger:reason.expired' } });

    // running again finds nothing more to take
    await ledger.expireDueLots(at('2027-01-02T00:00:00Z'));
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(50);
  });

  it('expires a lot exactly at its instant, not before', async () => {
    const p = someone();
    await earn(p, 10, at('2026-05-01T00:00:00Z'));
    await ledger.expireDueLots(at('2026-04-30T23:59:59.999Z'));
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(10);
    await ledger.expireDueLots(at('2026-05-01T00:00:00Z'));
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(0);
  });

  it('keeps held points from expiring and expires them when the hold is voided after the lot expired', async () => {
    const p = someone();
    await earn(p, 60, at('2026-04-01T00:00:00Z'));
    await earn(p, 20, at('2027-04-01T00:00:00Z'));
    const holdKey = `order:${randomUUID()}:hold`;
    await ledger.hold(db.sql, { ...p, amount: 50, key: holdKey, reason });
    // the April lot is due: only its 10 unreserved points go
    await ledger.expireDueLots(at('2026-04-02T00:00:00Z'));
    expect(await ledger.balance(db.sql, p.programId, p.participantId)).toMatchObject({ available: 20, held: 50 });

    clock.set('2026-04-03T00:00:00Z');
    const voided = await ledger.voidHold(db.sql, holdKey);
    expect(voided.status).toBe('voided');
    // the 50 came back to a lot that had expired: they expire at once
    expect(await ledger.balance(db.sql, p.programId, p.participantId)).toMatchObject({ available: 20, held: 0 });
    const kinds = (await ledger.history(db.sql, p.programId, p.participantId)).map((h) => [h.kind, h.amount]);
    expect(kinds.slice(0, 2)).toEqual([
      ['expire', -50],
      ['void', 50],
    ]);
    clock.set('2026-03-01T10:00:00Z');
  });

  it('gives back an unexpired hold to its lot, which then expires on its own date', async () => {
    const p = someone();
    await earn(p, 40, at('2026-09-01T00:00:00Z'));
    const holdKey = `order:${randomUUID()}:hold`;
    await ledger.hold(db.sql, { ...p, amount: 40, key: holdKey, reason });
    await ledger.voidHold(db.sql, holdKey);
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).expiringSoon).toEqual({ amount: 40, at: at('2026-09-01T00:00:00Z') });
    await ledger.expireDueLots(at('2026-09-01T00:00:00Z'));
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(0);
  });

  it('uses the program validity when no expiry is given, and never when the program has none', async () => {
    const p = someone();
    await ledger.earn(db.sql, { ...p, amount: 5, source: 'bonus', key: `b:${randomUUID()}`, reason });
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).expiringSoon).toBeNull();
    await db.sql`update programs set point_validity_months = 12 where id = ${programId}`;
    try {
      const r = await ledger.earn(db.sql, { ...p, amount: 7, source: 'bonus', key: `b:${randomUUID()}`, reason });
      expect(r.transfer.expiresAt).toEqual(at('2027-03-01T10:00:00Z'));
      // a pending credit's lot counts its validity from confirmation
      const key = `sale:${randomUUID()}`;
      await ledger.pendingCredit(db.sql, { ...p, amount: 3, source: 'sale', key, reason });
      clock.set('2026-05-01T10:00:00Z');
      const confirmed = await ledger.confirmPending(db.sql, key);
      expect(confirmed).toMatchObject({ status: 'confirmed', transfer: { expiresAt: at('2027-05-01T10:00:00Z') } });
    } finally {
      clock.set('2026-03-01T10:00:00Z');
      await db.sql`update programs set point_validity_months = null where id = ${programId}`;
    }
  });

  it('restores reversed spends with the expiry the points had', async () => {
    const p = someone();
    await earn(p, 10, at('2026-03-05T00:00:00Z'));
    await earn(p, 10, at('2026-08-01T00:00:00Z'));
    const key = `order:${randomUUID()}`;
    await ledger.spend(db.sql, { ...p, amount: 15, key, reason });
    clock.set('2026-03-10T00:00:00Z');
    await ledger.reverse(db.sql, { transferKey: key, key: `${key}:reverse`, actor: 'admin:anna', reason: { key: 'admin:refund' } });
    // the 10 from the lot that expired on 5 March expire again at once; the 5 from August come back
    expect(await ledger.balance(db.sql, p.programId, p.participantId)).toMatchObject({
      available: 10,
      expiringSoon: { amount: 10, at: at('2026-08-01T00:00:00Z') },
    });
    clock.set('2026-03-01T10:00:00Z');
  });
});
