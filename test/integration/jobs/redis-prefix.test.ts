import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { resolveRedisPrefix } from '../../../src/jobs/redis-prefix.js';
import { createSql } from '../../../src/db/sql.js';

let a: TestDatabase;
let b: TestDatabase;
beforeAll(async () => {
  [a, b] = await Promise.all([createTestDatabase({ migrated: false }), createTestDatabase({ migrated: false })]);
});
afterAll(async () => {
  await Promise.all([a?.drop(), b?.drop()]);
});

it('two deployments on one Redis get different queue prefixes; the processes of one deployment the same', async () => {
  const pa = await resolveRedisPrefix(a.sql, undefined);
  const pb = await resolveRedisPrefix(b.sql, undefined);
  expect(pa).toMatch(/^punkto-[0-9a-f]{12}$/);
  expect(pa).not.toBe(pb);
  // Another process (its own pool) of deployment a: the same prefix.
  const again = createSql(a.url, { max: 1 });
  expect(await resolveRedisPrefix(again, undefined)).toBe(pa);
  await again.end();
  expect(await resolveRedisPrefix(a.sql, 'staging')).toBe('staging');
});
