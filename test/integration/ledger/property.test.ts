import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../helpers/db.js';
import { openLedgerTestBed } from '../../helpers/ledger.js';
import type { Ledger } from '../../../src/services/ledger/index.js';

let db: TestDatabase;
let ledger: Ledger;
let programId: string;
const reason = { key: 'test:op' };
const base = new Date('2026-06-01T00:00:00Z').getTime();
const day = 24 * 3600 * 1000;

beforeAll(async () => {
  ({ db, ledger, programId } = await openLedgerTestBed({ max: 20 }));
});
afterAll(async () => {
  await db.drop();
});

const who = fc.integer({ min: 0, max: 2 });
const points = fc.integer({ min: 1, max: 40 });
const ref = fc.integer({ min: 0, max: 59 });
const op = fc.oneof(
  fc.record({ t: fc.constant('earn' as const), who, amount: points, expiresInDays: fc.option(fc.integer({ min: -5, max: 30 })) }),
  fc.record({ t: fc.constant('pending' as const), who, amount: points }),
  fc.record({ t: fc.constant('confirm' as const), ref }),
  fc.record({ t: fc.constant('spend' as const), who, amount: points }),
  fc.record({ t: fc.constant('hold' as const), who, amount: points, holdDays: fc.option(fc.integer({ min: -2, max: 5 })) }),
  fc.record({ t: fc.constant('post' as const), ref }),
  fc.record({ t: fc.constant('void' as const), ref }),
  fc.record({ t: fc.constant('adjust' as const), who, amount: fc.integer({ min: -30, max: 30 }).filter((n) => n !== 0) }),
  fc.record({ t: fc.constant('reverse' as const), ref }),
  fc.record({ t: fc.constant('expire' as const), inDays: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ t: fc.constant('voidExpired' as const), inDays: fc.integer({ min: 0, max: 10 }) }),
);

describe('random interleavings', () => {
  it('leave a ledger that reconciles, with no negative balance', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 10, maxLength: 60 }), async (ops) => {
        const run = randomUUID().slice(0, 8);
        const people = [0, 1, 2].map(() => ({ programId, participantId: randomUUID() }));
        const key = (i: number) => `${run}:op${i}`;
        // everything at once: ops referring to others (post, reverse…) may find them, or not yet
        const outcomes = await Promise.allSettled(
          ops.map((o, i) => {
            switch (o.t) {
              case 'earn':
                return ledger.earn(db.sql, {
                  ...people[o.who]!, amount: o.amount, source: 'code', key: key(i), reason,
                  expiresAt: o.expiresInDays === null ? null : new Date(base + o.expiresInDays * day),
                });
              case 'pending':
                return ledger.pendingCredit(db.sql, { ...people[o.who]!, amount: o.amount, source: 'sale', key: key(i), reason });
              case 'confirm':
                return ledger.confirmPending(db.sql, key(o.ref));
              case 'spend':
                return ledger.spend(db.sql, { ...people[o.who]!, amount: o.amount, key: key(i), reason });
              case 'hold':
                return ledger.hold(db.sql, {
                  ...people[o.who]!, amount: o.amount, key: key(i), reason,
                  holdExpiresAt: o.holdDays === null ? null : new Date(base + o.holdDays * day),
                });
              case 'post':
                return ledger.postHold(db.sql, key(o.ref));
              case 'void':
                return ledger.voidHold(db.sql, key(o.ref));
              case 'adjust':
                return ledger.adjust(db.sql, { ...people[o.who]!, amount: o.amount, key: key(i), actor: 'admin:test', reason });
              case 'reverse':
                return ledger.reverse(db.sql, { transferKey: key(o.ref), key: key(i), actor: 'admin:test', reason });
              case 'expire':
                return ledger.expireDueLots(new Date(base + o.inDays * day));
              case 'voidExpired':
                return ledger.voidExpiredHolds(new Date(base + o.inDays * day));
            }
          }),
        );
        const failures = outcomes.filter((o) => o.status === 'rejected');
        expect(failures).toEqual([]);
        const check = await ledger.check();
        expect(check).toEqual({ ok: true, problems: [] });
        for (const p of people) {
          const b = await ledger.balance(db.sql, p.programId, p.participantId);
          expect(b.available).toBeGreaterThanOrEqual(0);
          expect(b.held).toBeGreaterThanOrEqual(0);
          expect(b.pending).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: Number(process.env.LEDGER_PROPERTY_RUNS ?? 25), endOnFailure: true },
    );
  });
});
