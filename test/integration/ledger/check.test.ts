import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../src/http/server.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';
import { createLedger, type Ledger } from '../../../src/services/ledger/index.js';
import { ledgerRoutes } from '../../../src/http/routes/ledger.js';
import { createReconciliation } from '../../../src/services/ledger/reconcile.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { TEST_REDIS_URL } from '../../helpers/redis.js';
import { testLogger } from '../../helpers/logger.js';

let db: TestDatabase;
let redis: Redis;
let app: FastifyInstance;
let ledger: Ledger;
let viewerToken: string;
let programId: string;
const reason = { key: 'codes:earned' };

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const adminTokens = createAdminTokens({ sql: db.sql });
  await adminTokens.bootstrap(undefined);
  viewerToken = (await adminTokens.create({ name: 'auditor', role: 'viewer' })).token;
  ledger = createLedger({ sql: db.sql });
  app = await buildServer({ logger: testLogger(), sql: db.sql, redis, adminTokens, apiRoutes: [ledgerRoutes(ledger, { sql: db.sql, reconciliation: createReconciliation() })] });
  const [program] = await db.sql<{ id: string }[]>`select id from programs where slug = 'default'`;
  programId = program!.id;
});
afterAll(async () => {
  await app.close();
  redis.disconnect();
  await db.drop();
});

const getCheck = (token?: string, scope?: string) =>
  app.inject({ url: `/api/v1/ledger/check${scope ? `?scope=${scope}` : ''}`, headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('GET /api/v1/ledger/check', () => {
  it('needs a bearer token and reports a healthy ledger', async () => {
    expect((await getCheck()).statusCode).toBe(401);
    const p = { programId, participantId: randomUUID() };
    await ledger.earn(db.sql, { ...p, amount: 50, source: 'code', key: `code:${randomUUID()}`, reason });
    await ledger.hold(db.sql, { ...p, amount: 20, key: `order:${randomUUID()}:hold`, reason });
    const res = await getCheck(viewerToken);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, problems: [] });
    for (const scope of ['changes', 'full']) expect((await getCheck(viewerToken, scope)).json()).toEqual({ ok: true, problems: [] });
    expect((await getCheck(viewerToken, 'everything')).statusCode).toBe(400);
  });

  it('finds drift written behind the ledger’s back', async () => {
    const p = { programId, participantId: randomUUID() };
    const earned = await ledger.earn(db.sql, { ...p, amount: 10, source: 'code', key: `code:${randomUUID()}`, reason });
    // a superuser switches the append-only trigger off and edits history
    await db.sql.begin(async (tx) => {
      await tx`alter table ledger_entries disable trigger ledger_entries_append_only`;
      await tx`update ledger_entries set amount = amount + 5 where transfer_id = ${earned.transfer.id} and amount > 0`;
      await tx`alter table ledger_entries enable trigger ledger_entries_append_only`;
    });
    // and a cached balance is bumped without a transfer
    const q = { programId, participantId: randomUUID() };
    await ledger.earn(db.sql, { ...q, amount: 3, source: 'bonus', key: `b:${randomUUID()}`, reason });
    await db.sql`update ledger_accounts set held = held + 2 where ref = ${q.participantId}`;

    const res = await getCheck(viewerToken);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { ok: boolean; problems: Array<{ kind: string; participantId?: string; transferId?: number }> };
    expect(body.ok).toBe(false);
    const kinds = body.problems.map((x) => `${x.kind}:${x.participantId ?? x.transferId ?? ''}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        `unbalanced_transfer:${earned.transfer.id}`,
        `balance_drift:${p.participantId}`,
        'global_imbalance:',
        `held_mismatch:${q.participantId}`,
        `lots_mismatch:${q.participantId}`,
      ]),
    );
    expect((await ledger.check()).ok).toBe(false);
    // the changes since the last verified point (the first test's) and the full check range by range find them too
    for (const scope of ['changes', 'full']) {
      const scoped = (await getCheck(viewerToken, scope)).json() as typeof body;
      expect(scoped.ok).toBe(false);
      expect(scoped.problems.map((x) => `${x.kind}:${x.participantId ?? x.transferId ?? ''}`)).toEqual(
        expect.arrayContaining([`unbalanced_transfer:${earned.transfer.id}`, `balance_drift:${p.participantId}`, `held_mismatch:${q.participantId}`]),
      );
    }
  });

  it('finds rows breaking the shape rules the ledger functions keep (no longer CHECK constraints)', async () => {
    const p = { programId, participantId: randomUUID() };
    const earned = await ledger.earn(db.sql, { ...p, amount: 10, source: 'referral', key: `ref:${randomUUID()}`, reason });
    await db.sql.begin(async (tx) => {
      await tx`alter table ledger_transfers disable trigger ledger_transfers_append_only`;
      // a memo kind that moved posted points
      await tx`update ledger_transfers set kind = 'hold' where id = ${earned.transfer.id}`;
      await tx`alter table ledger_transfers enable trigger ledger_transfers_append_only`;
    });
    // a lot marked empty while it still has points, and a system account given a stored balance
    await db.sql`update ledger_lots set open = false where transfer_id = ${earned.transfer.id}`;
    await db.sql`update ledger_accounts set lifetime_earned = 1 where program_id = ${programId} and kind = 'issuance' and ref = 'referral'`;

    const problems = (await ledger.check()).problems.map((x) => `${x.kind}:${x.participantId ?? x.transferId ?? ''}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        `malformed_transfer:${p.participantId}`,
        `malformed_lot:${p.participantId}`,
        'malformed_account:',
      ]),
    );
  });
});
