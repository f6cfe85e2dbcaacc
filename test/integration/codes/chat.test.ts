/**
 * Exactly once through the whole inbound path: 100 registered participants send the same
 * single-use code at the same instant through the dialog engine (each in its own chat; the engine
 * groups them into shared transactions); one is credited, 99 are told it is already used, and the
 * ledger reconciles.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { buildEngine, i18n, outboxOf, seedWebChatters } from '../../helpers/dialog-harness.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { createCampaigns } from '../../../src/services/campaigns/index.js';
import { createCodes, createCodeHasher } from '../../../src/services/codes/index.js';
import { createCodesFlow } from '../../../src/dialog/flows/codes/index.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: 20 });
});
afterAll(async () => {
  await db?.drop();
});

it('100 participants, same code, same instant, through the engine: one credit', { timeout: 120_000 }, async () => {
  const { ledger } = buildEngine(db.sql);
  const campaigns = createCampaigns({ sql: db.sql });
  const codes = createCodes({ sql: db.sql, ledger, campaigns, hash: createCodeHasher(randomBytes(32)) });
  const { engine } = buildEngine(db.sql, [createCodesFlow({ codes })]);
  const c = await campaigns.create(
    { name: 'Rush', startsAt: new Date(Date.now() - 3600_000), endsAt: new Date(Date.now() + 86_400_000), status: 'active' },
    'admin:test',
  );
  const { codes: [code] } = await codes.createBatch(c.id, { count: 1, points: 40 }, 'admin:test');
  const { programId, people } = await seedWebChatters(db.sql, 'rush', 100, '60');
  await Promise.all(
    people.map((p) =>
      engine.receive({ kind: 'text', text: code!, messageId: `rush-${p.n}`, from: { channel: 'web', externalId: `rush-${p.n}` }, receivedAt: new Date() }),
    ),
  );
  const t = i18n.t('pl');
  const creditedText = t('codes:credited', { code, points: '40 punktów', campaign: 'Rush', balance: '40 punktów' });
  let credited = 0;
  let used = 0;
  for (const p of people) {
    const [reply] = await outboxOf(db.sql, `rush-${p.n}`, 'web');
    if (reply!.text === creditedText) credited++;
    else if (reply!.text.startsWith(`❌ ${code}`)) used++;
  }
  expect({ credited, used }).toEqual({ credited: 1, used: 99 });
  const balances = await Promise.all(people.map((p) => ledger.balance(db.sql, programId, p.id)));
  expect(balances.reduce((s, b) => s + b.available, 0)).toBe(40);
  expect((await ledger.check()).ok).toBe(true);
});
