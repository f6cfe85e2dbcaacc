/**
 * Erasure in the rewards and sales areas: what is still open is closed (an order whose points are
 * only held is cancelled, the hold goes back, the item returns to stock), what is already on its
 * way stays, and no order or sale keeps the person's name, phone, address, payout details or photo.
 * Wired as in main.ts: erasure hooks given to the participants service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { withTransaction } from '../../../src/db/sql.js';
import type { ErasureHook } from '../../../src/services/participants/index.js';
import { createCampaigns } from '../../../src/services/campaigns/index.js';
import { createSales } from '../../../src/services/sales/index.js';
import type { Earner } from '../../../src/domain/campaigns/campaign.js';
import { buildRewards, cashOut, participantWithPoints, physical } from '../../helpers/rewards.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('erasure reaches reward orders and sales', () => {
  it('cancels open orders, releases their holds and stock, and leaves no phone, name, address, payout or photo', async () => {
    const { sql } = db;
    const hooks: ErasureHook[] = [];
    const { participants, ledger, rewards } = buildRewards(sql, hooks);
    const campaigns = createCampaigns({ sql });
    const sales = createSales({ ledger, campaigns });
    hooks.push((tx, id) => rewards.forgetParticipant(tx, id));
    hooks.push((tx, id) => sales.forgetParticipant(tx, id));

    const p = await participantWithPoints(sql, ledger, 2000, { role: 'retail_staff', name: 'Zofia Wrześniewska' });
    await sql`update participants set phone = '+48601234567' where id = ${p.id}`;
    const programId = p.programId;

    // A sale with a photo of the invoice.
    const campaign = await campaigns.create(
      {
        name: { pl: 'Kotły' },
        startsAt: new Date('2026-01-01T00:00:00Z'),
        endsAt: new Date('2030-01-01T00:00:00Z'),
        status: 'active',
        audienceRoles: ['retail_staff'],
        productRules: [{ sku: 'B24', name: 'Kocioł 24 kW', pointsPerUnit: 100 }],
      },
      'admin:test',
    );
    const earner: Earner = { id: p.id, programId, role: 'retail_staff', store: p.store, region: null };
    const [offer] = await sales.offers(sql, earner);
    const sale = await sales.logSale(sql, { participant: earner, productId: offer!.productId, quantity: 1, invoice: 'FV 1/2026', photoRef: 'telegram:invoice-photo-77' });
    expect(sale.status).toBe('logged');

    // Three orders: two still only held (physical, cash-out), one already shipped.
    const mug = await rewards.create(sql, physical({ stock: 5, cost: 300 }), 'admin:test');
    const bag = await rewards.create(sql, physical({ stock: 5, cost: 200 }), 'admin:test');
    const payout = await rewards.create(sql, cashOut(), 'admin:test');
    const place = (rewardId: string, requestKey: string, extra: object) =>
      withTransaction(sql, (tx) => rewards.placeOrder(tx, { participant: p, rewardId, requestKey, ...extra } as never));
    const held = await place(mug.id, 'k-mug', { delivery: { method: 'address', name: 'Zofia Wrześniewska', address: 'ul. Kwiatowa 12, 00-950 Warszawa' } });
    const shipped = await place(bag.id, 'k-bag', { delivery: { method: 'pickup', name: 'Zofia Wrześniewska', store: 'Sklep Mokotów' } });
    const cash = await place(payout.id, 'k-cash', { cashAmount: 20, delivery: { method: 'payout', payout: 'PL61109010140000071219812874' } });
    if (held.status !== 'placed' || shipped.status !== 'placed' || cash.status !== 'placed') throw new Error('order not placed');
    await rewards.fulfil(sql, shipped.order.id, { to: 'shipped', tracking: 'INPOST-123' }, 'admin:test');
    const before = await ledger.balance(sql, programId, p.id);
    expect(before.held).toBe(300 + 200);

    await participants.erase(sql, p.id);

    expect((await rewards.getOrder(sql, held.order.id))!.status).toBe('cancelled');
    expect((await rewards.getOrder(sql, cash.order.id))!.status).toBe('cancelled');
    expect((await rewards.getOrder(sql, shipped.order.id))!.status).toBe('shipped');
    expect((await rewards.get(sql, mug.id))!.stock).toBe(5);
    const after = await ledger.balance(sql, programId, p.id);
    expect(after.held).toBe(0);
    expect(after.available).toBe(before.available + 300 + 200);
    expect((await ledger.check()).ok).toBe(true);

    // Nothing in the rewards and sales tables names or reaches the person any more.
    const dump = JSON.stringify([
      await sql`select * from reward_orders where participant_id = ${p.id}`,
      await sql`select e.* from reward_order_events e join reward_orders o on o.id = e.order_id where o.participant_id = ${p.id}`,
      await sql`select * from sales where participant_id = ${p.id}`,
    ]);
    for (const trace of ['Zofia', 'Wrześniewska', '601234567', 'Kwiatowa', 'Mokotów', 'PL6110901014', 'invoice-photo-77', 'INPOST-123']) {
      expect(dump).not.toContain(trace);
    }
    // The sale itself stays, anonymous, for the campaign's totals.
    expect(await sales.countOf(sql, p.id)).toBe(1);
  });
});
