import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { seedDemoRewards } from '../../../src/services/rewards/demo-seed.js';
import { buildRewards } from '../../helpers/rewards.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('seeds one reward of each type with a voucher pool, once', async () => {
  const { rewards } = buildRewards(db.sql);
  // as scripts/demo.ts calls it: from config values, with the voucher key under DATA_DIR
  const dataDir = await mkdtemp(path.join(tmpdir(), 'punkto-demo-'));
  expect(await seedDemoRewards({ sql: db.sql, dataDir })).toEqual({ created: 3, vouchers: 20 });
  expect(await seedDemoRewards({ rewards, sql: db.sql })).toEqual({ created: 0, vouchers: 0 });
  const list = await rewards.list(db.sql);
  expect(list.map((r) => r.type).sort()).toEqual(['cash_out', 'e_voucher', 'physical']);
  expect(list.find((r) => r.type === 'e_voucher')!.stock).toBe(20);
  for (const r of list) expect(Object.keys(r.names).sort()).toEqual(['be', 'pl', 'pt']);
});
