import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import type { TestDatabase } from '../../helpers/db.js';
import { openLedgerTestBed } from '../../helpers/ledger.js';
import { createLedger, type Ledger } from '../../../src/services/ledger/index.js';
import { createSql } from '../../../src/db/sql.js';
import { testLogger } from '../../helpers/logger.js';

let db: TestDatabase;
let ledger: Ledger;
let programId: string;
const reason = { key: 'rewards:redeemed' };

beforeAll(async () => {
  ({ db, ledger, programId } = await openLedgerTestBed({ max: 20 }));
});
afterAll(async () => {
  await db.drop();
});

/** A seeded pseudo-random source, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('concurrency', () => {
  it('never overdraws: 1,000 concurrent spends and holds against 100 points', async () => {
    const p = { programId, participantId: randomUUID() };
    await ledger.earn(db.sql, { ...p, amount: 60, source: 'code', key: `code:${randomUUID()}`, reason, expiresAt: new Date('2027-01-01') });
    await ledger.earn(db.sql, { ...p, amount: 40, source: 'code', key: `code:${randomUUID()}`, reason, expiresAt: null });
    const random = rng(20260311);
    const ops = Array.from({ length: 1000 }, (_, i) => ({
      kind: random() < 0.5 ? ('spend' as const) : ('hold' as const),
      amount: 1 + Math.floor(random() * 12),
      key: `order:${i}:${randomUUID()}`,
    }));
    const results = await Promise.all(
      ops.map((op) => (op.kind === 'spend' ? ledger.spend(db.sql, { ...p, amount: op.amount, key: op.key, reason }) : ledger.hold(db.sql, { ...p, ...op, reason }))),
    );
    const succeeded = ops.filter((_, i) => results[i]!.status !== 'insufficient');
    const taken = succeeded.reduce((sum, op) => sum + op.amount, 0);
    const balance = await ledger.balance(db.sql, p.programId, p.participantId);
    expect(balance.available).toBeGreaterThanOrEqual(0);
    expect(taken).toBe(100 - balance.available);
    expect(balance.held).toBe(succeeded.filter((op) => op.kind === 'hold').reduce((s, op) => s + op.amount, 0));
    // every refusal saw a balance too small for it, never a negative one
    for (const [i, r] of results.entries()) {
      if (r.status === 'insufficient') {
        expect(r.available).toBeGreaterThanOrEqual(0);
        expect(r.available).toBeLessThan(ops[i]!.amount);
      }
    }
    // most attempts must have been refused: there were only 100 points for ~6,500 asked
    expect(succeeded.length).toBeGreaterThan(5);
    expect(await ledger.check()).toEqual({ ok: true, problems: [] });
  });

  it('creates exactly one transfer for one key sent 50 times at once, and refuses it for another amount', async () => {
    const p = { programId, participantId: randomUUID() };
    const key = `code:${randomUUID()}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => ledger.earn(db.sql, { ...p, amount: 25, source: 'code', key, reason })),
    );
    expect(new Set(results.map((r) => r.transfer.id)).size).toBe(1);
    expect(results.filter((r) => !r.transfer.replayed)).toHaveLength(1);
    const [row] = await db.sql<{ count: number }[]>`select count(*)::int as count from ledger_transfers where key = ${key}`;
    expect(row?.count).toBe(1);
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(25);
    await expect(ledger.earn(db.sql, { ...p, amount: 26, source: 'code', key, reason })).rejects.toMatchObject({ code: 'idempotency_mismatch' });

    // the same for a hold racing itself: one reservation
    const holdKey = `order:${randomUUID()}:hold`;
    const holds = await Promise.all(Array.from({ length: 50 }, () => ledger.hold(db.sql, { ...p, amount: 10, key: holdKey, reason })));
    expect(holds.every((h) => h.status === 'held')).toBe(true);
    expect((await ledger.balance(db.sql, p.programId, p.participantId)).held).toBe(10);
    // and posting and voiding it at once: exactly one wins
    const resolutions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? ledger.postHold(db.sql, holdKey) : ledger.voidHold(db.sql, holdKey))),
    );
    const winners = new Set(resolutions.map((r) => (r.status === 'already_resolved' ? r.resolution : r.status)));
    expect(winners.size).toBe(1);
    expect(await ledger.check()).toEqual({ ok: true, problems: [] });
  });

  it('retries serialization failures with the same key instead of reporting them', async () => {
    // Under REPEATABLE READ every concurrent update of the same account row fails with 40001;
    // the ledger must retry those, never turn them into "insufficient" or lose a spend.
    const admin = postgres(db.url, { max: 1, onnotice: () => undefined });
    await admin.unsafe(`alter database ${db.name} set default_transaction_isolation = 'repeatable read'`);
    await admin.end();
    const strictSql = createSql(db.url, { max: 10 });
    const logger = testLogger();
    let retries = 0;
    logger.debug = ((...args: unknown[]) => {
      if (String(args[1]).includes('retrying')) retries++;
    }) as typeof logger.debug;
    const strict = createLedger({ sql: strictSql, logger, retryAttempts: 200 });
    try {
      const p = { programId, participantId: randomUUID() };
      await strict.earn(strictSql, { ...p, amount: 40, source: 'bonus', key: `b:${randomUUID()}`, reason });
      const results = await Promise.all(
        Array.from({ length: 40 }, () => strict.spend(strictSql, { ...p, amount: 1, key: `order:${randomUUID()}`, reason })),
      );
      expect(results.every((r) => r.status === 'spent')).toBe(true);
      expect((await strict.balance(strictSql, p.programId, p.participantId)).available).toBe(0);
      expect(retries).toBeGreaterThan(0);
    } finally {
      await strictSql.end();
      const a = postgres(db.url, { max: 1, onnotice: () => undefined });
      await a.unsafe(`alter database ${db.name} reset default_transaction_isolation`);
      await a.end();
    }
  });
});
