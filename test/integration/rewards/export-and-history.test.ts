/**
 * Review fixes in rewards: the warehouse CSV holds every waiting order (not a page of the newest),
 * and a reward order's history line names the reward in every language.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { buildRewards, i18n, participantWithPoints, physical } from '../../helpers/rewards.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('exports every order waiting to ship, oldest first, however many there are', async () => {
  const { rewards, ledger } = buildRewards(db.sql);
  const reward = await rewards.create(db.sql, physical({ stock: null }), 'admin:test');
  const p = await participantWithPoints(db.sql, ledger, 0);
  // 1 234 waiting orders, the first one a day older than the rest (rows only: the CSV reads orders)
  await db.sql`
    insert into reward_orders (program_id, reward_id, participant_id, request_key, type, status, points, delivery, created_at, updated_at)
    select ${p.programId}, ${reward.id}, ${p.id}, 'bulk-' || i, 'physical', 'ordered', 500,
           jsonb_build_object('method', 'address', 'name', 'Ana ' || i, 'address', 'Rua ' || i),
           now() - interval '1 day' + (case when i = 1 then interval '0' else interval '1 hour' end) + i * interval '1 millisecond',
           now()
    from generate_series(1, 1234) as i`;
  const lines = (await rewards.shippingCsv(db.sql, {})).trim().split(/\r?\n/);
  expect(lines).toHaveLength(1 + 1234);
  expect(lines[1]).toContain('Ana 1,');
  expect(new Set(lines.slice(1).map((l) => l.split(',')[0])).size).toBe(1234);
  // a list's page size given to the export does not cut it either
  expect((await rewards.shippingCsv(db.sql, { limit: 50, offset: 0 })).trim().split(/\r?\n/)).toHaveLength(1 + 1234);
});

it('books the reward name in every language for the history', async () => {
  const { rewards, ledger } = buildRewards(db.sql);
  const reward = await rewards.create(db.sql, physical({ name: { pl: 'Kubek', pt: 'Caneca', be: 'Кубак' } }), 'admin:test');
  const p = await participantWithPoints(db.sql, ledger, 1000, { locale: 'pt-PT' });
  const placed = await db.sql.begin((tx) =>
    rewards.placeOrder(tx, { participant: p, rewardId: reward.id, requestKey: randomUUID(), delivery: { method: 'address', name: 'Ana', address: 'Rua 1' } }),
  );
  expect(placed.status).toBe('placed');
  const [entry] = await ledger.history(db.sql, p.programId, p.id, { limit: 1 });
  expect(entry!.reason).toEqual({ key: 'rewards:ledger.order', params: { name: { pl: 'Kubek', 'pt-PT': 'Caneca', 'pt-BR': 'Caneca', be: 'Кубак' } } });
  expect(i18n.t('pt-PT')(entry!.reason.key, { name: 'Caneca' })).toBe('Encomenda do prémio «Caneca»');
});
