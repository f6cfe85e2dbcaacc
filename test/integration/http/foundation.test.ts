import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../src/http/server.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { TEST_REDIS_URL } from '../../helpers/redis.js';
import { testLogger } from '../../helpers/logger.js';

describe('HTTP foundation', () => {
  let db: TestDatabase;
  let redis: Redis;
  let app: FastifyInstance;
  let adminToken: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    const adminTokens = createAdminTokens({ sql: db.sql });
    adminToken = (await adminTokens.bootstrap(undefined))!;
    app = await buildServer({ logger: testLogger(), sql: db.sql, redis, adminTokens });
  });
  afterAll(async () => {
    await app.close();
    redis.disconnect();
    await db.drop();
  });

  it('answers liveness and readiness', async () => {
    expect((await app.inject('/healthz')).json()).toEqual({ ok: true });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ ok: true, checks: { database: { ok: true }, redis: { ok: true } } });
  });

  it('serves the OpenAPI document at /docs', async () => {
    const res = await app.inject('/docs/json');
    expect(res.statusCode).toBe(200);
    expect(res.json().paths).toHaveProperty('/api/v1/admin-tokens');
  });

  it('needs a valid bearer token on /api/v1 and checks the role', async () => {
    expect((await app.inject('/api/v1/whoami')).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v1/whoami', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401);
    const me = await app.inject({ url: '/api/v1/whoami', headers: { authorization: `Bearer ${adminToken}` } });
    expect(me.json()).toEqual({ name: 'bootstrap', role: 'admin' });

    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/admin-tokens',
      headers: { authorization: `Bearer ${adminToken}` },
      payload: { name: 'Ana', role: 'viewer' },
    });
    expect(created.statusCode).toBe(201);
    const viewer = created.json().token as string;
    const forbidden = await app.inject({
      method: 'POST',
      url: '/api/v1/admin-tokens',
      headers: { authorization: `Bearer ${viewer}` },
      payload: { name: 'Eve', role: 'admin' },
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().code).toBe('forbidden');
  });

  it('answers bad input with a clear 400 naming the field', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/admin-tokens',
      headers: { authorization: `Bearer ${adminToken}` },
      payload: { name: '', role: 'king' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('invalid_input');
    expect(JSON.stringify(res.json().issues)).toContain('role');
  });

  it('stores only hashes of tokens and generates the bootstrap token once', async () => {
    const rows = await db.sql<{ tokenHash: string }[]>`select token_hash from admin_tokens`;
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.tokenHash))).toBe(true);
    expect(rows.some((r) => r.tokenHash === adminToken)).toBe(false);
    expect(await createAdminTokens({ sql: db.sql }).bootstrap(undefined)).toBeUndefined();
  });

  it('reports 503 when the database does not answer', async () => {
    const broken = await createTestDatabase();
    const app2 = await buildServer({ logger: testLogger(), sql: broken.sql, redis, adminTokens: createAdminTokens({ sql: broken.sql }) });
    await broken.drop();
    const res = await app2.inject('/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json().checks.database.ok).toBe(false);
    await app2.close();
  });
});
