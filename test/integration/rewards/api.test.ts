/**
 * The rewards admin API over HTTP: catalogue, voucher import, stock, orders with filters,
 * fulfil/cancel/approve/reject, shipping CSV, roles and the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../src/http/server.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';
import { rewardRoutes } from '../../../src/http/routes/rewards.js';
import { orderRoutes } from '../../../src/http/routes/orders.js';
import { withTransaction } from '../../../src/db/sql.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { TEST_REDIS_URL } from '../../helpers/redis.js';
import { testLogger } from '../../helpers/logger.js';
import { buildRewards, participantWithPoints } from '../../helpers/rewards.js';

let db: TestDatabase;
let redis: Redis;
let app: FastifyInstance;
let env: ReturnType<typeof buildRewards>;
let manager: { authorization: string };
let viewer: { authorization: string };

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const adminTokens = createAdminTokens({ sql: db.sql });
  manager = { authorization: `Bearer ${(await adminTokens.create({ name: 'marta', role: 'manager' })).token}` };
  viewer = { authorization: `Bearer ${(await adminTokens.create({ name: 'v', role: 'viewer' })).token}` };
  env = buildRewards(db.sql);
  app = await buildServer({
    logger: testLogger(),
    sql: db.sql,
    redis,
    adminTokens,
    apiRoutes: [rewardRoutes({ sql: db.sql, rewards: env.rewards }), orderRoutes({ sql: db.sql, rewards: env.rewards })],
  });
});
afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  await db?.drop();
});

const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, headers: Record<string, string> = manager) =>
  app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as never }), headers });

async function placeFor(rewardId: string, points: number, extra: { cashAmount?: number; name?: string } = {}) {
  const p = await participantWithPoints(db.sql, env.ledger, points, { name: extra.name ?? 'Jan Nowak' });
  const r = await withTransaction(db.sql, (tx) =>
    env.rewards.placeOrder(tx, {
      participant: p,
      rewardId,
      requestKey: `api-${p.id}`,
      delivery: extra.cashAmount ? { method: 'payout', payout: 'PL61109010140000071219812874' } : { method: 'address', name: extra.name ?? 'Jan Nowak', address: 'ul. Polna 1, 00-001 Warszawa' },
      ...(extra.cashAmount ? { cashAmount: extra.cashAmount } : {}),
    }),
  );
  if (r.status !== 'placed') throw new Error(r.status);
  return { p, order: r.order };
}

describe('rewards API', () => {
  it('creates, lists, reads and patches rewards; validates types; audit-logs', async () => {
    const created = await call('POST', '/api/v1/rewards', {
      type: 'physical',
      name: { pl: 'Plecak', pt: 'Mochila', be: 'Заплечнік' },
      cost: 900,
      stock: 5,
      imageUrl: 'https://cdn.example.com/plecak.jpg',
    });
    expect(created.statusCode).toBe(201);
    const reward = created.json();
    expect(reward).toMatchObject({ type: 'physical', cost: 900, stock: 5, status: 'active', names: { pt: 'Mochila' } });

    expect((await call('POST', '/api/v1/rewards', { type: 'cash_out', name: { pl: 'Wypłata' }, cost: 10 })).statusCode).toBe(400);
    expect((await call('POST', '/api/v1/rewards', { type: 'e_voucher', name: { pl: 'Bon' }, cost: 10, stock: 3 })).statusCode).toBe(400);
    expect((await call('POST', '/api/v1/rewards', { type: 'physical', name: {}, cost: 10 })).statusCode).toBe(400);
    expect((await call('POST', '/api/v1/rewards', { type: 'physical', name: { pl: 'X' }, cost: 10 }, viewer)).statusCode).toBe(403);

    const patched = await call('PATCH', `/api/v1/rewards/${reward.id}`, { stockDelta: 3, cost: 950 });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ stock: 8, cost: 950, names: { pl: 'Plecak' } });
    expect((await call('PATCH', `/api/v1/rewards/${reward.id}`, { stockDelta: -9 })).statusCode).toBe(409);

    const list = await call('GET', '/api/v1/rewards?type=physical', undefined, viewer);
    expect(list.json().items.map((r: { id: string }) => r.id)).toContain(reward.id);
    const audit = await db.sql`select action, actor from audit_log where target = ${`reward:${reward.id}`} order by id`;
    expect(audit).toEqual([
      { action: 'reward.create', actor: 'admin:marta' },
      { action: 'reward.update', actor: 'admin:marta' },
    ]);
  });

  it('imports voucher codes from CSV, skips codes already in the pool, reports stock levels', async () => {
    const reward = (await call('POST', '/api/v1/rewards', { type: 'e_voucher', name: { pl: 'Bon Empik 20 zł' }, cost: 200 })).json();
    const csv = 'code;note\nEMP-001;a\n"EMP-002";b\nEMP-003\n\nEMP-001\n';
    const first = await app.inject({ method: 'POST', url: `/api/v1/rewards/${reward.id}/vouchers`, payload: csv, headers: { ...manager, 'content-type': 'text/csv' } });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ imported: 3, alreadyInPool: 0, duplicatesInFile: 1, free: 3 });
    const again = await call('POST', `/api/v1/rewards/${reward.id}/vouchers`, { codes: ['EMP-003', 'EMP-004'] });
    expect(again.json()).toMatchObject({ imported: 1, alreadyInPool: 1, free: 4 });
    const stock = await call('GET', `/api/v1/rewards/${reward.id}/stock`, undefined, viewer);
    expect(stock.json()).toMatchObject({ type: 'e_voucher', stock: 4, vouchers: { free: 4, assigned: 0, imports: 2 } });
    // a physical reward takes no codes
    const phys = (await call('POST', '/api/v1/rewards', { type: 'physical', name: { pl: 'Kubek' }, cost: 1 })).json();
    expect((await call('POST', `/api/v1/rewards/${phys.id}/vouchers`, { codes: ['X'] })).statusCode).toBe(400);
  });

  it('lists orders with filters, fulfils and cancels once, exports shipping CSV', async () => {
    const reward = (await call('POST', '/api/v1/rewards', { type: 'physical', name: { pl: 'Latarka' }, cost: 100, stock: 10 })).json();
    const a = await placeFor(reward.id, 500, { name: 'Anna Kowalska' });
    const b = await placeFor(reward.id, 500, { name: '=HYPERLINK("x")' });

    expect((await call('GET', `/api/v1/orders?rewardId=${reward.id}`, undefined, viewer)).statusCode).toBe(403);
    const listed = await call('GET', `/api/v1/orders?rewardId=${reward.id}&status=ordered`);
    expect(listed.json()).toMatchObject({ total: 2 });
    expect(listed.json().items[0]).toMatchObject({ rewardNames: { pl: 'Latarka' }, status: 'ordered' });

    const csv = await call('GET', `/api/v1/orders/shipping.csv?rewardId=${reward.id}`);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body).toContain('Anna Kowalska');
    expect(csv.body).toContain('ul. Polna 1');
    // a name that looks like a formula is defused for spreadsheets
    expect(csv.body).toContain(`"'=HYPERLINK(""x"")"`);
    // The standard form stays as it was; the Excel form for a Polish reader has a BOM and semicolons.
    expect(csv.body.startsWith('order_id,ordered_at,')).toBe(true);
    const excel = await call('GET', `/api/v1/orders/shipping.csv?rewardId=${reward.id}&format=excel`, undefined, { ...manager, 'accept-language': 'pl-PL,pl;q=0.9' });
    expect(excel.statusCode).toBe(200);
    expect(excel.body.startsWith('\uFEFForder_id;ordered_at;status;')).toBe(true);
    expect(excel.body).toContain('Anna Kowalska');
    expect(excel.body.split('\r\n').length).toBe(csv.body.split('\r\n').length);
    expect((await call('GET', `/api/v1/orders/shipping.csv?format=xlsx`)).statusCode).toBe(400);

    const shipped = await call('POST', `/api/v1/orders/${a.order.id}/fulfil`, { status: 'shipped', tracking: 'INPOST-77' });
    expect(shipped.json()).toMatchObject({ changed: true, order: { status: 'shipped', tracking: 'INPOST-77' } });
    const retry = await call('POST', `/api/v1/orders/${a.order.id}/fulfil`, { status: 'shipped' });
    expect(retry.json()).toMatchObject({ changed: false });
    expect((await call('POST', `/api/v1/orders/${a.order.id}/cancel`, { reason: 'za późno' })).statusCode).toBe(409);

    expect((await call('POST', `/api/v1/orders/${b.order.id}/cancel`, {})).statusCode).toBe(400);
    const cancelled = await call('POST', `/api/v1/orders/${b.order.id}/cancel`, { reason: 'Adres poza zasięgiem' });
    expect(cancelled.json()).toMatchObject({ changed: true, order: { status: 'cancelled', cancelReason: 'Adres poza zasięgiem', cancelledBy: 'admin:marta' } });
    expect(await env.ledger.balance(db.sql, b.p.programId, b.p.id)).toMatchObject({ available: 500, held: 0 });
    expect(await env.ledger.balance(db.sql, a.p.programId, a.p.id)).toMatchObject({ available: 400, held: 0 });

    expect((await call('POST', `/api/v1/orders/${a.order.id}/fulfil`, {}, viewer)).statusCode).toBe(403);
    expect((await call('POST', '/api/v1/orders/00000000-0000-4000-8000-000000000000/fulfil', {})).statusCode).toBe(404);
    const stock = (await call('GET', `/api/v1/rewards/${reward.id}/stock`)).json();
    expect(stock).toMatchObject({ stock: 9, orders: { shipped: 1, cancelled: 1 } });
  });

  it('documents the routes in the OpenAPI spec', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const paths = Object.keys(res.json().paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/rewards', '/api/v1/rewards/{id}/vouchers', '/api/v1/orders', '/api/v1/orders/{id}/fulfil', '/api/v1/orders/{id}/cancel']));
  });

  it('approves and rejects cash-out payouts', async () => {
    const reward = (
      await call('POST', '/api/v1/rewards', { type: 'cash_out', name: { pl: 'Przelew' }, cost: 10, cashOut: { currency: 'PLN', step: 10, min: 10, max: 100 } })
    ).json();
    const a = await placeFor(reward.id, 1000, { cashAmount: 50 });
    const b = await placeFor(reward.id, 1000, { cashAmount: 20 });
    expect((await call('POST', `/api/v1/orders/${a.order.id}/approve`)).json()).toMatchObject({ changed: true, order: { status: 'delivered' } });
    expect((await call('POST', `/api/v1/orders/${b.order.id}/reject`, { reason: 'Błędny numer konta' })).json()).toMatchObject({
      changed: true,
      order: { status: 'cancelled' },
    });
    expect(await env.ledger.balance(db.sql, a.p.programId, a.p.id)).toMatchObject({ available: 500, held: 0 });
    expect(await env.ledger.balance(db.sql, b.p.programId, b.p.id)).toMatchObject({ available: 1000, held: 0 });
    const phys = (await call('POST', '/api/v1/rewards', { type: 'physical', name: { pl: 'Kubek' }, cost: 1 })).json();
    const c = await placeFor(phys.id, 10);
    expect((await call('POST', `/api/v1/orders/${c.order.id}/approve`)).statusCode).toBe(409);
    expect(await env.ledger.check()).toMatchObject({ ok: true });
  });
});

describe('cash-out bounds', () => {
  const payout = (cashOut: Record<string, unknown>, cost = 10) => ({ type: 'cash_out', name: { pl: 'Wypłata' }, cost, cashOut: { currency: 'PLN', ...cashOut } });

  it('refuses amounts beyond the limit, fractions and zero steps with a 400 naming the field', async () => {
    const huge = await call('POST', '/api/v1/rewards', payout({ step: 1e15, min: 1e15, max: 1e15 }));
    expect(huge.statusCode).toBe(400);
    expect(JSON.stringify(huge.json())).toMatch(/cashOut\.(step|min|max)/);
    const tooMuch = await call('POST', '/api/v1/rewards', payout({ step: 1000, min: 1000, max: 200_000 }));
    expect(tooMuch.statusCode).toBe(400);
    expect(JSON.stringify(tooMuch.json())).toContain('cashOut.max');
    expect(JSON.stringify(tooMuch.json())).toContain('100000');
    const fraction = await call('POST', '/api/v1/rewards', payout({ step: 2.5, min: 5, max: 50 }));
    expect(fraction.statusCode).toBe(400);
    expect(JSON.stringify(fraction.json())).toContain('cashOut.step');
    expect((await call('POST', '/api/v1/rewards', payout({ step: 0, min: 10, max: 50 }))).statusCode).toBe(400);
    expect((await call('POST', '/api/v1/rewards', payout({ step: 10, min: 50, max: 20 }))).statusCode).toBe(400);
  });

  it('refuses a rule whose dearest amount costs more points than an order can hold, on create and on patch', async () => {
    const dear = await call('POST', '/api/v1/rewards', payout({ step: 1000, min: 1000, max: 100_000 }, 1_000_000));
    expect(dear.statusCode).toBe(400);
    expect(JSON.stringify(dear.json())).toContain('cashOut.max');

    const ok = await call('POST', '/api/v1/rewards', payout({ step: 10, min: 10, max: 100 }, 10));
    expect(ok.statusCode).toBe(201);
    const patched = await call('PATCH', `/api/v1/rewards/${ok.json().id}`, { cost: 1_000_000_000 });
    expect(patched.statusCode).toBe(400);
    expect(JSON.stringify(patched.json())).toContain('cashOut.max');
    expect((await call('GET', `/api/v1/rewards/${ok.json().id}`)).json()).toMatchObject({ cost: 10 });
  });
});
