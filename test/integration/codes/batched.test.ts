/**
 * The code statements a batch of messages sends as one (db/codes/repo.ts: lookup, and
 * db/ledger/code-use-credit.ts: take-and-credit over arrays) answer exactly what each item would get alone: lookups with their
 * own lockouts, and a single-use code sent twice in one batch credited once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { createLedger, type Ledger } from '../../../src/services/ledger/index.js';
import { createCampaigns } from '../../../src/services/campaigns/index.js';
import { createCodes, createCodeHasher, type CodesService } from '../../../src/services/codes/index.js';
import { normalizeCode } from '../../../src/domain/codes/code-format.js';
import * as repo from '../../../src/db/codes/repo.js';
import { creditCodeUse, type CodeUseCredit } from '../../../src/db/ledger/code-use-credit.js';
import { sentArgs } from '../../../src/services/ledger/transfers.js';
import { createSummerCampaign } from '../../fixtures/campaigns.js';

let db: TestDatabase;
let ledger: Ledger;
let codes: CodesService;
let programId: string;
let campaignId: string;
const hash = createCodeHasher(randomBytes(32));
const hashOf = (code: string) => hash(normalizeCode(code)!);
const now = new Date();

beforeAll(async () => {
  db = await createTestDatabase({ max: 4 });
  ledger = createLedger({ sql: db.sql });
  const campaigns = createCampaigns({ sql: db.sql });
  codes = createCodes({ sql: db.sql, ledger, campaigns, hash });
  programId = await campaigns.defaultProgramId();
  campaignId = (await createSummerCampaign(campaigns, { endsAt: new Date(Date.now() + 86_400_000) })).id;
});
afterAll(async () => {
  await db?.drop();
});

it('looks several codes up at once as each alone, lockouts per item', async () => {
  const { codes: list } = await codes.createBatch(campaignId, { count: 2, points: 15 }, 'admin:test');
  const locked = `p:${randomUUID()}`;
  await db.sql`insert into code_lockouts (subject, level, locked_at, until) values (${locked}, 0, now(), now() + interval '1 hour')`;
  const items: repo.LookupInput[] = [
    { hash: hashOf(list[0]!), subjects: ['p:a', 'i:web:a'], now },
    { hash: hashOf('ZZZZ-ZZZZ-Z'), subjects: ['p:b', 'i:web:b'], now },
    { hash: hashOf(list[1]!), subjects: [locked, 'i:web:c'], now },
  ];
  const together = await db.sql.begin((tx) => repo.lookup.many(tx, items));
  const alone = await Promise.all(items.map((i) => repo.lookup.one(db.sql, i)));
  expect(together).toEqual(alone);
  expect(together.map((r) => [Boolean(r.found), r.lockedUntil !== null])).toEqual([
    [true, false],
    [false, false],
    [true, true],
  ]);
  expect(together[0]!.found).toMatchObject({ points: 15, campaignId, uses: 0, maxUses: 1 });
});

it('takes and credits several codes in one statement; the same code twice is credited once', async () => {
  const { codes: list } = await codes.createBatch(campaignId, { count: 2, points: 25 }, 'admin:test');
  const [first, second] = await Promise.all(list.map((c) => repo.lookup.one(db.sql, { hash: hashOf(c), subjects: [], now })));
  const people = [randomUUID(), randomUUID(), randomUUID()];
  const item = (codeId: number, participantId: string): CodeUseCredit => {
    const earn = { programId, participantId, amount: 25, source: 'code' as const, key: `code:${codeId}`, campaignId, reason: { key: 'codes:reason_code' } };
    return { use: { codeId, participantId, campaignId, points: 25, channel: 'web', at: now }, credit: sentArgs(now, 'earn', earn, earn, null) };
  };
  const outcomes = await db.sql.begin((tx) =>
    creditCodeUse.many(tx, [item(first!.found!.codeId, people[0]!), item(first!.found!.codeId, people[1]!), item(second!.found!.codeId, people[2]!)]),
  );
  expect(outcomes.filter((o) => o !== null)).toHaveLength(2);
  expect(outcomes[0] === null).not.toBe(outcomes[1] === null);
  expect(outcomes[2]).toMatchObject({ status: 'ok', available: 25 });
  const balances = await Promise.all(people.map((p) => ledger.balance(db.sql, programId, p)));
  expect(balances.map((b) => b.available).sort()).toEqual([0, 25, 25]);
  const [used] = await db.sql<{ uses: number; redemptions: number }[]>`
    select (select sum(uses) from codes where id in ${db.sql([first!.found!.codeId, second!.found!.codeId])})::int as uses,
           (select count(*) from code_redemptions where code_id in ${db.sql([first!.found!.codeId, second!.found!.codeId])})::int as redemptions`;
  expect(used).toEqual({ uses: 2, redemptions: 2 });
  // A code with no use left: nothing taken, nothing credited.
  const again = await db.sql.begin((tx) => creditCodeUse.many(tx, [item(second!.found!.codeId, people[0]!), item(second!.found!.codeId, people[1]!)]));
  expect(again).toEqual([null, null]);
  expect((await ledger.check()).ok).toBe(true);
});
