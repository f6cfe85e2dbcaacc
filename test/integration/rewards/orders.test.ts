/**
 * Ordering against the real database: overselling, double taps, voucher pools under concurrency,
 * and fulfil/cancel moving points exactly once however often they are retried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { withTransaction } from '../../../src/db/sql.js';
import { buildRewards, cashOut, participantWithPoints, physical, voucher, balanceOf } from '../../helpers/rewards.js';

let db: TestDatabase;
let env: ReturnType<typeof buildRewards>;

beforeAll(async () => {
  db = await createTestDatabase({ max: 30 });
  env = buildRewards(db.sql);
});
afterAll(async () => {
  await db?.drop();
});

const order = (participant: Awaited<ReturnType<typeof participantWithPoints>>, rewardId: string, key: string, extra: { cashAmount?: number } = {}) =>
  withTransaction(db.sql, (tx) =>
    env.rewards.placeOrder(tx, {
      participant,
      rewardId,
      requestKey: key,
      delivery: { method: 'address', name: participant.name ?? 'X', address: 'ul. Długa 1, 00-001 Warszawa' },
      ...extra,
    }),
  );

describe('rewards orders', () => {
  it('places a physical order: points held at once, stock reserved, nothing posted yet', async () => {
    const reward = await env.rewards.create(db.sql, physical({ stock: 3 }), 'admin:test');
    const p = await participantWithPoints(db.sql, env.ledger, 1200);
    const r = await order(p, reward.id, 'k-basic');
    expect(r.status).toBe('placed');
    if (r.status !== 'placed') return;
    expect(r.balanceAfter).toBe(700);
    expect(await balanceOf(env, p)).toMatchObject({ available: 700, held: 500 });
    expect((await env.rewards.get(db.sql, reward.id))!.stock).toBe(2);
    expect(r.order.status).toBe('ordered');
    const [hold] = await db.sql`select kind, amount from ledger_transfers where key = ${`order:${r.order.id}:hold`}`;
    expect(hold).toMatchObject({ kind: 'hold', amount: 500 });
  });

  it('50 participants order the last 10 units at once: exactly 10 orders, 40 out of stock, none of them held', async () => {
    const reward = await env.rewards.create(db.sql, physical({ stock: 10, lowStockThreshold: 3 }), 'admin:test');
    const people = await Promise.all(Array.from({ length: 50 }, () => participantWithPoints(db.sql, env.ledger, 800)));
    const results = await Promise.all(people.map((p, i) => order(p, reward.id, `race-${i}`)));

    const placed = results.filter((r) => r.status === 'placed');
    const outOfStock = results.filter((r) => r.status === 'out_of_stock');
    expect(placed).toHaveLength(10);
    expect(outOfStock).toHaveLength(40);
    expect((await env.rewards.get(db.sql, reward.id))!.stock).toBe(0);
    const [{ n }] = (await db.sql`select count(*)::int as n from reward_orders where reward_id = ${reward.id}`) as unknown as [{ n: number }];
    expect(n).toBe(10);

    for (const [i, p] of people.entries()) {
      const b = await balanceOf(env, p);
      if (results[i]!.status === 'placed') expect(b).toMatchObject({ available: 300, held: 500 });
      else expect(b).toMatchObject({ available: 800, held: 0 });
    }
    // nothing held for the refused: not even a hold that was voided
    const refusedIds = people.filter((_, i) => results[i]!.status !== 'placed').map((p) => p.id);
    const [{ holds }] = (await db.sql`
      select count(*)::int as holds from ledger_transfers where participant_id = any(${refusedIds}::uuid[]) and kind <> 'earn'`) as unknown as [{ holds: number }];
    expect(holds).toBe(0);
    expect(await env.ledger.check()).toEqual({ ok: true, problems: [] });
    // the stock fell to its alert level once: one audit entry
    const alerts = await db.sql`select 1 from audit_log where action = 'reward.low_stock' and target = ${`reward:${reward.id}`}`;
    expect(alerts).toHaveLength(1);
  });

  it('the same request key twice (a double-tapped confirm), even at once, makes one order and holds once', async () => {
    const reward = await env.rewards.create(db.sql, physical({ stock: 5 }), 'admin:test');
    const p = await participantWithPoints(db.sql, env.ledger, 2000);
    const [a, b, c] = await Promise.all([order(p, reward.id, 'tap-1'), order(p, reward.id, 'tap-1'), order(p, reward.id, 'tap-1')]);
    const statuses = [a, b, c].map((r) => r.status).sort();
    expect(statuses).toEqual(['duplicate', 'duplicate', 'placed']);
    const ids = new Set([a, b, c].map((r) => ('order' in r ? r.order.id : undefined)));
    expect(ids.size).toBe(1);
    expect(await balanceOf(env, p)).toMatchObject({ available: 1500, held: 500 });
    expect((await env.rewards.get(db.sql, reward.id))!.stock).toBe(4);
  });

  it('refuses with a clear reason and holds nothing: insufficient points, limit reached, not available', async () => {
    const reward = await env.rewards.create(db.sql, physical({ stock: null, limitPerParticipant: 1, cost: 400 }), 'admin:test');
    const poor = await participantWithPoints(db.sql, env.ledger, 399);
    const r1 = await order(poor, reward.id, 'poor-1');
    expect(r1).toMatchObject({ status: 'insufficient', available: 399, missing: 1 });
    expect(await balanceOf(env, poor)).toMatchObject({ available: 399, held: 0 });

    const rich = await participantWithPoints(db.sql, env.ledger, 5000);
    expect((await order(rich, reward.id, 'rich-1')).status).toBe('placed');
    const r2 = await order(rich, reward.id, 'rich-2');
    expect(r2).toMatchObject({ status: 'limit_reached', limit: 1 });
    expect(await balanceOf(env, rich)).toMatchObject({ available: 4600, held: 400 });

    const staffOnly = await env.rewards.create(db.sql, physical({ roles: ['installer'] }), 'admin:test');
    expect((await order(rich, staffOnly.id, 'rich-3')).status).toBe('not_available');
    const ended = await env.rewards.create(db.sql, physical({ availableUntil: new Date(Date.now() - 1000), availableFrom: new Date(Date.now() - 100000) }), 'admin:test');
    expect((await order(rich, ended.id, 'rich-4')).status).toBe('not_available');
    expect(await balanceOf(env, rich)).toMatchObject({ available: 4600, held: 400 });
    expect(await env.ledger.check()).toMatchObject({ ok: true });
  });

  it('a limit per participant holds under concurrent orders from two chats', async () => {
    const reward = await env.rewards.create(db.sql, physical({ stock: null, limitPerParticipant: 2, cost: 100 }), 'admin:test');
    const p = await participantWithPoints(db.sql, env.ledger, 5000);
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => order(p, reward.id, `lim-${i}`)));
    expect(results.filter((r) => r.status === 'placed')).toHaveLength(2);
    expect(results.filter((r) => r.status === 'limit_reached')).toHaveLength(6);
    expect(await balanceOf(env, p)).toMatchObject({ available: 4800, held: 200 });
  });

  it('200 concurrent redemptions against 100 vouchers hand out each code at most once, and alert managers once', async () => {
    const reward = await env.rewards.create(db.sql, voucher({ lowStockThreshold: 5 }), 'admin:test');
    const codes = Array.from({ length: 100 }, (_, i) => `ALLEGRO-${String(i).padStart(4, '0')}-XYZ`);
    const imported = await env.rewards.importVouchers(db.sql, reward.id, `code\n${codes.join('\n')}\n${codes[0]}\n`, 'admin:test');
    expect(imported).toMatchObject({ imported: 100, duplicatesInFile: 1, free: 100 });
    // stored encrypted: no code in clear in the table
    const [{ clear }] = (await db.sql`
      select count(*)::int as clear from reward_vouchers where position(${Buffer.from('ALLEGRO')} in code_enc) > 0`) as unknown as [{ clear: number }];
    expect(clear).toBe(0);
    const manager = await participantWithPoints(db.sql, env.ledger, 0, { role: 'manager' });

    const people = await Promise.all(Array.from({ length: 200 }, () => participantWithPoints(db.sql, env.ledger, 300)));
    const results = await Promise.all(people.map((p, i) => order(p, reward.id, `v-${i}`)));
    const placed = results.flatMap((r) => (r.status === 'placed' ? [r] : []));
    expect(placed.length).toBeLessThanOrEqual(100);
    expect(placed.length).toBe(100);
    expect(results.filter((r) => r.status === 'out_of_stock')).toHaveLength(100);
    const handed = placed.map((r) => r.voucherCode!);
    expect(new Set(handed).size).toBe(handed.length);
    expect(handed.every((c) => codes.includes(c))).toBe(true);
    for (const r of placed) expect(r.order.status).toBe('delivered');

    const [{ dup }] = (await db.sql`
      select count(*)::int as dup from (select order_id from reward_vouchers where order_id is not null group by order_id having count(*) > 1) x`) as unknown as [{ dup: number }];
    expect(dup).toBe(0);
    // points of voucher orders are posted at once; the refused hold nothing
    for (const [i, p] of people.entries()) {
      const b = await balanceOf(env, p);
      expect(b).toMatchObject(results[i]!.status === 'placed' ? { available: 0, held: 0 } : { available: 300, held: 0 });
    }
    expect(await env.ledger.check()).toEqual({ ok: true, problems: [] });

    const alerts = await db.sql`select details from audit_log where action = 'reward.low_stock' and target = ${`reward:${reward.id}`}`;
    expect(alerts).toHaveLength(1);
    const notices = await db.sql<{ message: { text: string } }[]>`select message from outbox where participant_id = ${manager.id}`;
    expect(notices).toHaveLength(1);
    expect(notices[0]!.message.text).toContain('Bon Allegro 50 zł');
    expect((await env.rewards.stockLevels(db.sql, reward.id)).vouchers).toMatchObject({ free: 0, assigned: 100 });
  });

  it('fulfil posts the hold exactly once under retries; the participant is told once per status', async () => {
    const reward = await env.rewards.create(db.sql, physical({ stock: 5 }), 'admin:test');
    const p = await participantWithPoints(db.sql, env.ledger, 1000, { locale: 'pt-PT' });
    const placed = await order(p, reward.id, 'ful-1');
    if (placed.status !== 'placed') throw new Error(placed.status);
    const id = placed.order.id;

    const shipped = await Promise.all(Array.from({ length: 6 }, () => env.rewards.fulfil(db.sql, id, { to: 'shipped', tracking: 'PX123' }, 'admin:boss')));
    expect(shipped.filter((r) => r.status === 'changed')).toHaveLength(1);
    expect(shipped.filter((r) => r.status === 'unchanged')).toHaveLength(5);
    expect(await balanceOf(env, p)).toMatchObject({ available: 500, held: 0 });
    const posts = await db.sql`select 1 from ledger_transfers where kind = 'post' and key like ${`order:${id}:%`}`;
    expect(posts).toHaveLength(1);

    // after shipping, cancelling is refused (points already left) and changes nothing
    expect((await env.rewards.cancel(db.sql, id, 'late', 'admin:boss')).status).toBe('not_allowed');
    expect((await env.rewards.cancelByParticipant(db.sql, p.id, id)).status).toBe('not_allowed');
    expect((await env.rewards.fulfil(db.sql, id, {}, 'admin:boss')).status).toBe('changed'); // → delivered
    expect(await balanceOf(env, p)).toMatchObject({ available: 500, held: 0 });

    const notices = await db.sql<{ message: { text: string } }[]>`
      select message from outbox where participant_id = ${p.id} and kind = 'notice' order by id`;
    expect(notices.map((n) => n.message.text)).toEqual([
      expect.stringContaining('já vai a caminho'),
      expect.stringContaining('foi entregue'),
    ]);
    expect(notices[0]!.message.text).toContain('PX123');
    const audit = await db.sql`select action from audit_log where target = ${`order:${id}`} order by id`;
    expect(audit.map((a) => a.action)).toEqual(['order.fulfil', 'order.fulfil']);
    expect(await env.ledger.check()).toMatchObject({ ok: true });
  });

  it('cancel voids the hold and returns the stock exactly once under retries', async () => {
    const reward = await env.rewards.create(db.sql, physical({ stock: 2 }), 'admin:test');
    const p = await participantWithPoints(db.sql, env.ledger, 1000, { locale: 'be' });
    const placed = await order(p, reward.id, 'can-1');
    if (placed.status !== 'placed') throw new Error(placed.status);
    expect((await env.rewards.get(db.sql, reward.id))!.stock).toBe(1);

    const results = await Promise.all(Array.from({ length: 6 }, () => env.rewards.cancel(db.sql, placed.order.id, 'Brak towaru', 'admin:boss')));
    expect(results.filter((r) => r.status === 'changed')).toHaveLength(1);
    expect(await balanceOf(env, p)).toMatchObject({ available: 1000, held: 0 });
    expect((await env.rewards.get(db.sql, reward.id))!.stock).toBe(2);
    const voids = await db.sql`select 1 from ledger_transfers where kind = 'void' and key like ${`order:${placed.order.id}:%`}`;
    expect(voids).toHaveLength(1);
    expect((await env.rewards.fulfil(db.sql, placed.order.id, {}, 'admin:boss')).status).toBe('not_allowed');
    const [notice] = await db.sql<{ message: { text: string } }[]>`select message from outbox where participant_id = ${p.id} and kind = 'notice'`;
    expect(notice!.message.text).toMatch(/скасаван(ы|ая)/);
    expect(notice!.message.text).toContain('Brak towaru');
    expect(await env.ledger.check()).toMatchObject({ ok: true });
  });

  it('a participant may cancel their own order while it is only held', async () => {
    const reward = await env.rewards.create(db.sql, physical({ stock: 1 }), 'admin:test');
    const p = await participantWithPoints(db.sql, env.ledger, 600);
    const other = await participantWithPoints(db.sql, env.ledger, 600);
    const placed = await order(p, reward.id, 'self-1');
    if (placed.status !== 'placed') throw new Error(placed.status);
    expect((await env.rewards.cancelByParticipant(db.sql, other.id, placed.order.id)).status).toBe('not_found');
    expect((await env.rewards.cancelByParticipant(db.sql, p.id, placed.order.id)).status).toBe('changed');
    expect((await env.rewards.cancelByParticipant(db.sql, p.id, placed.order.id)).status).toBe('unchanged');
    expect(await balanceOf(env, p)).toMatchObject({ available: 600, held: 0 });
    expect((await env.rewards.get(db.sql, reward.id))!.stock).toBe(1);
    // erasure drops the address but keeps the order
    expect(await env.rewards.forgetParticipant(db.sql, p.id)).toBe(1);
    expect((await env.rewards.getOrder(db.sql, placed.order.id))!.delivery).toEqual({ method: 'none' });
  });

  it('cash-out: amount in steps within limits, approve posts, reject returns the points', async () => {
    const reward = await env.rewards.create(db.sql, cashOut(), 'admin:test');
    const p = await participantWithPoints(db.sql, env.ledger, 1000);
    expect((await order(p, reward.id, 'co-bad', { cashAmount: 25 })).status).toBe('invalid_amount');
    expect((await order(p, reward.id, 'co-big', { cashAmount: 210 })).status).toBe('invalid_amount');
    expect((await order(p, reward.id, 'co-poor', { cashAmount: 200 })).status).toBe('insufficient');
    const a = await order(p, reward.id, 'co-1', { cashAmount: 50 });
    const b = await order(p, reward.id, 'co-2', { cashAmount: 30 });
    if (a.status !== 'placed' || b.status !== 'placed') throw new Error('not placed');
    expect(a.order).toMatchObject({ points: 500, cashAmount: 50, currency: 'PLN' });
    expect(await balanceOf(env, p)).toMatchObject({ available: 200, held: 800 });
    expect((await env.rewards.fulfil(db.sql, a.order.id, { to: 'delivered' }, 'admin:boss')).status).toBe('changed');
    expect((await env.rewards.cancel(db.sql, b.order.id, 'IBAN niepoprawny', 'admin:boss')).status).toBe('changed');
    expect(await balanceOf(env, p)).toMatchObject({ available: 500, held: 0 });
    expect(await env.ledger.check()).toMatchObject({ ok: true });
  });
});
