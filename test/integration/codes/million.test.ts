import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { createLedger } from '../../../src/services/ledger/index.js';
import { createCampaigns } from '../../../src/services/campaigns/index.js';
import { createCodes, createCodeHasher } from '../../../src/services/codes/index.js';
import { isValidCanonical } from '../../../src/domain/codes/code-format.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('generates a 1,000,000-code batch where every code is valid and distinct, in the database too', { timeout: 180_000 }, async () => {
  const campaigns = createCampaigns({ sql: db.sql });
  const codes = createCodes({ sql: db.sql, ledger: createLedger({ sql: db.sql }), campaigns, hash: createCodeHasher(randomBytes(32)) });
  const c = await campaigns.create(
    { name: 'Million', startsAt: new Date('2026-01-01T00:00:00Z'), endsAt: new Date('2027-01-01T00:00:00Z'), status: 'active' },
    'admin:test',
  );
  const started = Date.now();
  const { batch, codes: list } = await codes.createBatch(c.id, { count: 1_000_000, points: 1 }, 'admin:test');
  const seconds = (Date.now() - started) / 1000;
  // Reported, not asserted: speed belongs in benchmarks.
  console.log(JSON.stringify({ test: 'million-code batch', seconds }));
  expect(list).toHaveLength(1_000_000);
  expect(new Set(list).size).toBe(1_000_000);
  expect(list.every((code) => /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]$/.test(code))).toBe(true);
  expect(list.every((code) => isValidCanonical(code.replaceAll('-', '')))).toBe(true);
  const [row] = await db.sql<{ n: number; distinct: number }[]>`
    select count(*)::int as n, count(distinct hash)::int as distinct from codes where batch_id = ${batch.id}`;
  expect(row).toEqual({ n: 1_000_000, distinct: 1_000_000 });
  expect((await codes.stats(batch.id)).unused).toBe(1_000_000);
});
