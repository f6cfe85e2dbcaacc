/**
 * The rewards flow through the real dialog engine: what a participant reads and taps, and that a
 * race for the last units through the chat tells the losers "out of stock" and holds nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { buildEngine, chat, choice, text } from '../../helpers/dialog-harness.js';
import { createRewardsFlow } from '../../../src/dialog/flows/rewards/index.js';
import { createRewards, createVoucherCipher } from '../../../src/services/rewards/index.js';
import type { Outbound } from '../../../src/dialog/types.js';
import { randomBytes } from 'node:crypto';
import { cashOut, participantWithPoints, physical, voucher, i18n } from '../../helpers/rewards.js';
import { testLogger } from '../../helpers/logger.js';

let db: TestDatabase;
let env: ReturnType<typeof build>;

function build() {
  const base = buildEngine(db.sql, []);
  const rewards = createRewards({ ledger: base.ledger,
    participants: base.participants,
    enqueueOutbound: base.enqueueOutbound,
    cipher: createVoucherCipher(randomBytes(32)),
    logger: testLogger(),
  });
  const { engine } = buildEngine(db.sql, [createRewardsFlow({ rewards })]);
  return { ...base, engine, rewards };
}

beforeAll(async () => {
  db = await createTestDatabase({ max: 30 });
  env = build();
});
afterAll(async () => {
  await db?.drop();
});

const values = (m: Outbound | undefined) => (m?.choices ?? []).flat().map((c) => c.value);
const labels = (m: Outbound | undefined) => (m?.choices ?? []).flat().map((c) => c.label);
const allText = (ms: Outbound[]) => ms.map((m) => m.text).join('\n');
const t = (l: 'pl' | 'pt-PT' | 'be') => i18n.t(l);

async function member(points: number, locale: 'pl' | 'pt-PT' | 'be' = 'pl', role = 'consumer') {
  const externalId = String(7_000_000 + Math.floor(Math.random() * 1e6));
  const p = await participantWithPoints(db.sql, env.ledger, points, { externalId, locale, role, name: 'Ola Kowalska' });
  return { p, c: chat(env.engine, db.sql, { externalId }) };
}

describe('rewards in chat', () => {
  it('lists rewards with what is affordable now and how many points are missing, paged, with buttons', async () => {
    const cheap = await env.rewards.create(db.sql, physical({ name: { pl: 'Brelok' }, cost: 100, sortOrder: 1 }), 'admin:t');
    await env.rewards.create(db.sql, physical({ name: { pl: 'Plecak' }, cost: 800, sortOrder: 2 }), 'admin:t');
    for (let i = 0; i < 5; i++) await env.rewards.create(db.sql, physical({ name: { pl: `Gadżet ${i}` }, cost: 50, sortOrder: 10 + i }), 'admin:t');
    await env.rewards.create(db.sql, physical({ name: { pl: 'Tylko dla instalatorów' }, roles: ['installer'], sortOrder: 3 }), 'admin:t');
    const { c } = await member(320);

    const [list] = await c.send(choice('rewards:list:0'));
    expect(list!.text).toContain('Masz do wykorzystania: 320 punktów.');
    expect(list!.text).toContain('✅ Brelok — 100 punktów');
    expect(list!.text).toContain('🔒 Plecak — 800 punktów (brakuje 480 punktów)');
    expect(list!.text).not.toContain('instalatorów');
    expect(list!.text).toContain('strona 1 z 2');
    expect(values(list)).toContain(`rewards:r:${cheap.id}:0`);
    expect(values(list)).toContain('rewards:list:1');
    for (const v of values(list)) expect(Buffer.byteLength(v)).toBeLessThanOrEqual(64);

    const [page2] = await c.send(choice('rewards:list:1'));
    expect(values(page2)).toContain('rewards:list:0');
    expect(page2!.text).toContain('Gadżet 4');

    const [plecak] = await c.send(choice(values(list).find((v) => v.startsWith('rewards:r:') && !v.includes(cheap.id))!));
    expect(plecak!.text).toContain('Brakuje Ci jeszcze 480 punktów.');
    expect(values(plecak)).not.toContainEqual(expect.stringMatching(/^rewards:o:/));
  });

  it('orders a physical reward: name, delivery, confirmation with the balance after; a double tap makes one order', async () => {
    const reward = await env.rewards.create(db.sql, physical({ name: { pl: 'Bluza z kapturem' }, cost: 700, stock: 3 }), 'admin:t');
    const { p, c } = await member(1000);

    const [details] = await c.send(choice(`rewards:r:${reward.id}:0`));
    expect(details!.text).toContain('✅ Wystarczy Ci punktów – masz 1000 punktów.');
    expect(labels(details)).toContain(t('pl')('rewards:button.order_physical'));

    const [askName] = await c.send(choice(`rewards:o:${reward.id}`));
    expect(askName!.text).toBe(t('pl')('rewards:ask.name'));
    expect(values(askName)).toContain('rewards:nm');
    const [short] = await c.send(text('A'));
    expect(short!.text).toBe(t('pl')('rewards:ask.too_short'));
    const [method] = await c.send(text('Ola Kowalska'));
    expect(values(method)).toEqual(['rewards:m:a', 'rewards:m:p', 'rewards:no']);
    const [askAddress] = await c.send(choice('rewards:m:a'));
    expect(askAddress!.text).toBe(t('pl')('rewards:ask.address'));
    const [confirm] = await c.send(text('ul. Długa 5/3, 31-147 Kraków'));
    expect(confirm!.text).toContain('Koszt: 700 punktów');
    expect(confirm!.text).toContain('Po zamówieniu będziesz mieć: 300 punktów');
    expect(confirm!.text).toContain('ul. Długa 5/3, 31-147 Kraków, odbiorca: Ola Kowalska');
    const ok = values(confirm).find((v) => v.startsWith('rewards:ok:'))!;
    expect(Buffer.byteLength(ok)).toBeLessThanOrEqual(64);

    const [first, second] = await Promise.all([c.send(choice(ok)), c.send(choice(ok))]);
    const replies = allText([...first!, ...second!]);
    expect(replies).toContain('🎉 Zamówione: Bluza z kapturem!');
    expect(replies).toContain(t('pl')('rewards:result.duplicate'));
    const orders = await db.sql`select * from reward_orders where participant_id = ${p.id}`;
    expect(orders).toHaveLength(1);
    expect(orders[0]!.delivery).toEqual({ method: 'address', name: 'Ola Kowalska', address: 'ul. Długa 5/3, 31-147 Kraków' });
    expect(await env.ledger.balance(db.sql, p.programId, p.id)).toMatchObject({ available: 300, held: 700 });

    // My orders: the order, cancellable while only held; cancelling gives the points back.
    const [mine] = await c.send(choice('rewards:orders'));
    expect(mine!.text).toContain('1. Bluza z kapturem – przyjęte (700 punktów');
    const cancel = values(mine).find((v) => v.startsWith('rewards:x:'))!;
    const [ask] = await c.send(choice(cancel));
    expect(ask!.text).toContain('Anulować zamówienie „Bluza z kapturem”?');
    const done = await c.send(choice(values(ask)[0]!));
    expect(done[0]!.text).toContain('Zamówienie anulowane');
    expect(await env.ledger.balance(db.sql, p.programId, p.id)).toMatchObject({ available: 1000, held: 0 });
    expect((await env.rewards.get(db.sql, reward.id))!.stock).toBe(3);
  });

  it('50 chats confirm the last 10 units at once: 10 orders, 40 told it is out of stock, nothing held for them', async () => {
    const reward = await env.rewards.create(db.sql, physical({ name: { pl: 'Powerbank' }, cost: 200, stock: 10, lowStockThreshold: 0 }), 'admin:t');
    const people = await Promise.all(Array.from({ length: 50 }, () => member(500)));
    const oks: string[] = [];
    for (const { c } of people) {
      await c.send(choice(`rewards:o:${reward.id}`));
      await c.send(choice('rewards:nm'));
      await c.send(choice('rewards:m:p'));
      const [confirm] = await c.send(text('Media Expert, Łódź'));
      oks.push(values(confirm).find((v) => v.startsWith('rewards:ok:'))!);
    }
    const answers = await Promise.all(people.map(({ c }, i) => c.send(choice(oks[i]!))));
    const texts = answers.map((a) => allText(a));
    expect(texts.filter((x) => x.includes('🎉 Zamówione: Powerbank!'))).toHaveLength(10);
    const soldOut = t('pl')('rewards:result.out_of_stock', { reward: 'Powerbank' });
    expect(texts.filter((x) => x.includes(soldOut))).toHaveLength(40);
    expect((await env.rewards.get(db.sql, reward.id))!.stock).toBe(0);
    for (const [i, { p }] of people.entries()) {
      const b = await env.ledger.balance(db.sql, p.programId, p.id);
      expect(b).toEqual(expect.objectContaining(texts[i]!.includes('🎉') ? { available: 300, held: 200 } : { available: 500, held: 0 }));
    }
    expect(await env.ledger.check()).toEqual({ ok: true, problems: [] });
  });

  it('e-voucher in Portuguese: the code arrives at once and stays in "my orders"', async () => {
    const reward = await env.rewards.create(db.sql, voucher({ cost: 300 }), 'admin:t');
    await env.rewards.importVouchers(db.sql, reward.id, 'FNAC-AAAA-0001\nFNAC-AAAA-0002\n', 'admin:t');
    const { p, c } = await member(450, 'pt-PT');
    const [confirm] = await c.send(choice(`rewards:o:${reward.id}`));
    expect(confirm!.text).toContain('Confira a sua encomenda');
    expect(confirm!.text).toContain('Depois da encomenda fica com: 150 pontos');
    const [placed] = await c.send(choice(values(confirm).find((v) => v.startsWith('rewards:ok:'))!));
    expect(placed!.text).toMatch(/O seu código para «Vale FNAC 10 €»:\n\nFNAC-AAAA-000[12]/);
    expect(await env.ledger.balance(db.sql, p.programId, p.id)).toMatchObject({ available: 150, held: 0 });
    const [mine] = await c.send(choice('rewards:orders'));
    expect(mine!.text).toContain('código entregue');
    expect(mine!.text).toMatch(/Código: FNAC-AAAA-000[12]/);
    expect(values(mine)).not.toContainEqual(expect.stringMatching(/^rewards:x:/));
  });

  it('cash-out in Belarusian: amount in steps, payout details, approval told in their language', async () => {
    const reward = await env.rewards.create(db.sql, cashOut({ cashOut: { currency: 'BYN', step: 5, min: 10, max: 50 }, cost: 20 }), 'admin:t');
    const { p, c } = await member(700, 'be');
    const [ask] = await c.send(choice(`rewards:o:${reward.id}`));
    expect(ask!.text).toContain('Якую суму вы хочаце атрымаць?');
    // 700 points at 20 a unit: up to 35 BYN
    expect(values(ask).filter((v) => v.startsWith('rewards:amt:'))).toEqual(
      ['10', '15', '20', '25', '30', '35'].map((a) => `rewards:amt:${a}`),
    );
    const [wrong] = await c.send(text('12'));
    expect(wrong!.text).toContain(t('be')('rewards:result.invalid_amount'));
    const [payout] = await c.send(text('25'));
    expect(payout!.text).toBe(t('be')('rewards:ask.payout'));
    const [confirm] = await c.send(text('BY20 OLMP 3135 0000 0010 0000 0933'));
    expect(confirm!.text).toContain('Кошт: 500 балаў');
    expect(confirm!.text).toContain('Пасля замовы ў вас будзе: 200 балаў');
    const [placed] = await c.send(choice(values(confirm).find((v) => v.startsWith('rewards:ok:'))!));
    expect(placed!.text).toContain('Заяўку на выплату');
    const [order] = await db.sql<{ id: string; delivery: unknown }[]>`select id, delivery from reward_orders where participant_id = ${p.id}`;
    expect(order!.delivery).toEqual({ method: 'payout', payout: 'BY20 OLMP 3135 0000 0010 0000 0933' });

    expect((await env.rewards.fulfil(db.sql, order!.id, {}, 'admin:boss')).status).toBe('changed');
    const [notice] = await db.sql<{ message: { text: string } }[]>`select message from outbox where participant_id = ${p.id} and kind = 'notice'`;
    expect(notice!.message.text).toMatch(/^💸 Выплата 25\sBr зацверджана/);
    expect(await env.ledger.balance(db.sql, p.programId, p.id)).toMatchObject({ available: 200, held: 0 });
  });

  it('answers a stale confirm button without ordering, and a sold-out reward before asking anything', async () => {
    const reward = await env.rewards.create(db.sql, physical({ name: { pl: 'Latarka' }, cost: 10, stock: 0 }), 'admin:t');
    const { p, c } = await member(100);
    const [stale] = await c.send(choice('rewards:ok:nonce-from-yesterday'));
    expect(stale!.text).toBe(t('pl')('rewards:result.stale'));
    const [sold] = await c.send(choice(`rewards:o:${reward.id}`));
    expect(sold!.text).toContain('właśnie się skończyła');
    const orders = await db.sql`select 1 from reward_orders where participant_id = ${p.id}`;
    expect(orders).toHaveLength(0);
  });
});
