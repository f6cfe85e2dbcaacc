import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { TestDatabase } from '../../helpers/db.js';
import { openLedgerTestBed } from '../../helpers/ledger.js';
import { clearPrefix, testQueuePrefix, TEST_REDIS_URL } from '../../helpers/redis.js';
import { testLogger } from '../../helpers/logger.js';
import type { Ledger } from '../../../src/services/ledger/index.js';
import { startLedgerMaintenance } from '../../../src/jobs/workers/ledger-maintenance.js';

let db: TestDatabase;
let ledger: Ledger;
let programId: string;
const prefix = testQueuePrefix();
const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });

beforeAll(async () => {
  ({ db, ledger, programId } = await openLedgerTestBed());
});
afterAll(async () => {
  connection.disconnect();
  await clearPrefix(prefix);
  await db.drop();
});

async function eventually(assertion: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('ledger maintenance job', () => {
  it('expires due lots and voids holds past their time on its schedule', async () => {
    const p = { programId, participantId: randomUUID() };
    const past = new Date(Date.now() - 60_000);
    await ledger.earn(db.sql, { ...p, amount: 30, source: 'code', key: `code:${randomUUID()}`, reason: { key: 'x' }, expiresAt: past });
    await ledger.earn(db.sql, { ...p, amount: 20, source: 'code', key: `code:${randomUUID()}`, reason: { key: 'x' }, expiresAt: null });
    // reserves the 20 that never expire after the 30 that are due (FIFO by expiry: the due lot first)
    const holdKey = `order:${randomUUID()}:hold`;
    await ledger.hold(db.sql, { ...p, amount: 30, key: holdKey, reason: { key: 'x' }, holdExpiresAt: new Date(Date.now() + 1500) });
    expect(await ledger.balance(db.sql, p.programId, p.participantId)).toMatchObject({ available: 20, held: 30 });

    const maintenance = await startLedgerMaintenance({ connection, prefix, ledger, logger: testLogger(), everyMs: 300 });
    try {
      // the hold times out, its points return to the lot that had expired, and expire at once
      await eventually(async () => {
        expect(await ledger.balance(db.sql, p.programId, p.participantId)).toMatchObject({ available: 20, held: 0 });
      });
      expect(await ledger.postHold(db.sql, holdKey)).toMatchObject({ status: 'already_resolved', resolution: 'voided' });
      const kinds = (await ledger.history(db.sql, p.programId, p.participantId)).map((h) => h.kind);
      expect(kinds.slice(0, 2)).toEqual(['expire', 'void']);
    } finally {
      await maintenance.close();
    }
    expect(await ledger.check()).toEqual({ ok: true, problems: [] });
  });

  it('expires a due lot with nobody holding it', async () => {
    const p = { programId, participantId: randomUUID() };
    await ledger.earn(db.sql, { ...p, amount: 7, source: 'bonus', key: `b:${randomUUID()}`, reason: { key: 'x' }, expiresAt: new Date(Date.now() + 500) });
    const maintenance = await startLedgerMaintenance({ connection, prefix, ledger, logger: testLogger(), everyMs: 300 });
    try {
      await eventually(async () => {
        expect((await ledger.balance(db.sql, p.programId, p.participantId)).available).toBe(0);
      });
    } finally {
      await maintenance.close();
    }
  });
});
