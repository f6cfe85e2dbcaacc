/**
 * `buildTestApp(routes)`, like fastify/demo's `build(t)`: called at the top of a test file, it
 * registers the file's setup and teardown: a fresh migrated database, a Redis connection, admin
 * tokens and the real server built from the routes the file makes on that database; closed and
 * dropped after the file. Requests go through `app.inject`.
 *
 *   const t = buildTestApp((sql) => ({ apiRoutes: [ledgerRoutes(createLedger({ sql }))] }));
 *   it('…', async () => { const res = await t.app.inject({ url: '/api/v1/ledger/check', headers: await t.as('viewer') }); });
 */
import { afterAll, beforeAll } from 'vitest';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { buildServer, type ServerDeps } from '../../src/http/server.js';
import { createAdminTokens, type AdminTokens } from '../../src/services/admin-tokens.js';
import type { Sql } from '../../src/db/sql.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { TEST_REDIS_URL } from './redis.js';
import { testLogger } from './logger.js';

type AdminRole = Parameters<AdminTokens['create']>[0]['role'];
type Routes = Pick<ServerDeps, 'apiRoutes' | 'publicRoutes'>;

export interface TestApp {
  readonly app: FastifyInstance;
  readonly db: TestDatabase;
  readonly sql: Sql;
  readonly adminTokens: AdminTokens;
  /** The bootstrap admin's Authorization header. */
  readonly admin: { authorization: string };
  /** An Authorization header for a new token with this role (and name). */
  as(role: AdminRole, name?: string): Promise<{ authorization: string }>;
}

export function buildTestApp(routes: (sql: Sql) => Routes | Promise<Routes> = () => ({})): TestApp {
  let state: { app: FastifyInstance; db: TestDatabase; redis: Redis; adminTokens: AdminTokens; admin: { authorization: string } } | undefined;
  const ready = () => {
    if (!state) throw new Error('buildTestApp: the app is made in beforeAll; use it inside a test');
    return state;
  };
  beforeAll(async () => {
    const db = await createTestDatabase();
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    const adminTokens = createAdminTokens({ sql: db.sql });
    const admin = { authorization: `Bearer ${(await adminTokens.bootstrap(undefined))!}` };
    const app = await buildServer({ logger: testLogger(), sql: db.sql, redis, adminTokens, ...(await routes(db.sql)) });
    state = { app, db, redis, adminTokens, admin };
  });
  afterAll(async () => {
    await state?.app.close();
    state?.redis.disconnect();
    await state?.db.drop();
  });
  return {
    get app() {
      return ready().app;
    },
    get db() {
      return ready().db;
    },
    get sql() {
      return ready().db.sql;
    },
    get adminTokens() {
      return ready().adminTokens;
    },
    get admin() {
      return ready().admin;
    },
    async as(role, name = role) {
      return { authorization: `Bearer ${(await ready().adminTokens.create({ name, role })).token}` };
    },
  };
}
