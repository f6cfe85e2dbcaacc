import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('a changed ADMIN_TOKEN retires the old one at the next start; other tokens stay', async () => {
  const tokens = createAdminTokens({ sql: db.sql });
  const other = await tokens.create({ name: 'Ana', role: 'manager' });
  expect(await tokens.bootstrap('first-configured-token')).toBeUndefined();
  expect(await tokens.authenticate('first-configured-token')).toMatchObject({ name: 'ADMIN_TOKEN', role: 'admin' });

  // restart with another value (what the demo does on every run with a fresh random token)
  await tokens.bootstrap('second-configured-token');
  expect(await tokens.authenticate('first-configured-token')).toBeUndefined();
  expect(await tokens.authenticate('second-configured-token')).toMatchObject({ name: 'ADMIN_TOKEN', role: 'admin' });
  expect(await tokens.authenticate(other.token)).toMatchObject({ name: 'Ana', role: 'manager' });

  // going back to an old value brings it back, and retires the other again
  await Promise.all([tokens.bootstrap('first-configured-token'), tokens.bootstrap('first-configured-token')]);
  expect(await tokens.authenticate('first-configured-token')).toMatchObject({ role: 'admin' });
  expect(await tokens.authenticate('second-configured-token')).toBeUndefined();
});
