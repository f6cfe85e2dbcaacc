/**
 * Group commit through the real engine: messages that queue up share transactions, and nothing a
 * participant sees or owns differs from handling each message alone. A burst mixes codes of an
 * uncapped campaign, codes of a campaign with a small budget (refusals roll back a savepoint inside
 * a shared transaction), a repeated delivery and a message whose flow throws. A turn whose state
 * cannot be stored commits nothing, alone or in a batch.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildTestEngine } from '../../helpers/engine.js';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { i18n, logger, outboxOf, seedWebChatters } from '../../helpers/dialog-harness.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { createCampaigns } from '../../../src/services/campaigns/index.js';
import { createCodes, createCodeHasher } from '../../../src/services/codes/index.js';
import { createCodesFlow } from '../../../src/dialog/flows/codes/index.js';
import { type FlowModule } from '../../../src/dialog/flow.js';
import { createLedger } from '../../../src/services/ledger/index.js';
import type { Inbound } from '../../../src/dialog/types.js';
import { createLogger } from '../../../src/shared/logger.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: 10 });
});
afterAll(async () => {
  await db?.drop();
});

/** A flow with a bug: "boom" makes it throw. */
const faulty: FlowModule = {
  id: 'faulty',
  async intercept(ctx) {
    if (ctx.inbound.kind === 'text' && ctx.inbound.text === 'boom') throw new Error('a bug in a flow');
    return undefined;
  },
};

/**
 * A real engine with the codes flow behind `first`, one transaction at a time (everything that
 * arrives meanwhile is batched), on the test database; `webMessage(prefix)` makes a chatter's message.
 */
function codesEngine(first: FlowModule, engineLogger = logger) {
  const ledger = createLedger({ sql: db.sql, logger });
  const campaigns = createCampaigns({ sql: db.sql, logger });
  const codes = createCodes({ sql: db.sql, ledger, campaigns, hash: createCodeHasher(randomBytes(32)), logger });
  const { engine } = buildTestEngine(db.sql, {
    modules: [first, createCodesFlow({ codes })],
    balances: ledger,
    logger: engineLogger,
    groupCommit: { maxInFlight: 1, maxBatch: 16 },
  });
  return { engine, ledger, campaigns, codes };
}

const webMessage = (prefix: string) => (n: number, text: string, id = `${prefix}-${n}-${text}`): Inbound => ({
  kind: 'text',
  text,
  messageId: id,
  from: { channel: 'web', externalId: `${prefix}-${n}` },
  receivedAt: new Date(),
});

/**
 * A flow that makes an effect (a notice queued to the participant) and then leaves a state that
 * cannot be written as JSON. The state goes out with the COMMIT right behind it, so it must fail
 * before it is sent: failing as postgres.js writes it would let the COMMIT keep the effect.
 */
const poisoned: FlowModule = {
  id: 'poisoned',
  async intercept(ctx) {
    if (ctx.inbound.kind !== 'text' || ctx.inbound.text !== 'poison') return undefined;
    await ctx.services.enqueueOutbound(ctx.db, { participantId: ctx.participant.id, kind: 'notice', message: { text: 'effect' } });
    return { replies: ['never sent'], next: { step: 'poisoned.wait', data: { n: 1n } } };
  },
};

it('a turn whose state cannot be stored commits nothing, alone or in a batch, and the others in its batch keep theirs', { timeout: 60_000 }, async () => {
  const logged: string[] = [];
  const { engine, ledger, campaigns, codes } = codesEngine(poisoned, createLogger({ level: 'debug', pretty: false }, new Writable({
    write(chunk, _encoding, done) {
      logged.push((JSON.parse(String(chunk)) as { msg: string }).msg);
      done();
    },
  })));
  const campaign = await campaigns.create(
    { name: 'Poison', startsAt: new Date(Date.now() - 3600_000), endsAt: new Date(Date.now() + 86_400_000), status: 'active' } as never,
    'admin:test',
  );
  const { codes: batchCodes } = await codes.createBatch(campaign.id, { count: 10, points: 7 }, 'admin:test');
  const { programId, people } = await seedWebChatters(db.sql, 'p', 11, '62');
  const message = webMessage('p');
  const t = i18n.t('pl');
  const texts = async (n: number) => (await outboxOf(db.sql, `p-${n}`, 'web')).map((o) => o.text);

  // Alone: nothing else is waiting.
  expect(await engine.receive(message(11, 'poison', 'p-alone'))).toEqual({ status: 'handled' });
  expect(await texts(11)).toEqual([t('common:error_generic')]);

  // In one batch with ten code messages (they arrive in the same turn; one transaction at a time).
  const burst = [...people.filter((p) => p.n <= 10).map((p) => message(p.n, batchCodes[p.n - 1]!)), message(11, 'poison', 'p-batch')];
  await Promise.all(burst.map((m) => engine.receive(m)));
  expect(logged).toContain('batch rolled back: its messages run alone');
  for (let n = 1; n <= 10; n++) expect(await texts(n)).toEqual([expect.stringMatching(/^✅/)]);
  expect(await texts(11)).toEqual([t('common:error_generic'), t('common:error_generic')]);
  expect(logged.filter((m) => m === 'dialog turn failed')).toHaveLength(2);
  expect(logged.some((m) => m.includes('committed without'))).toBe(false);

  const [state] = await db.sql<{ state: unknown }[]>`
    select c.state from conversations c join channel_identities i on i.id = c.identity_id where i.external_id = 'p-11'`;
  expect(JSON.stringify(state?.state ?? null)).not.toContain('poisoned.wait');
  const balances = await Promise.all(people.map((p) => ledger.balance(db.sql, programId, p.id)));
  expect(balances.map((b) => b.available)).toEqual([...Array(10).fill(7), 0]);
  expect((await ledger.check()).ok).toBe(true);
});

it('a burst in shared transactions: every outcome as if alone, the budget kept, the bug and the duplicate isolated', { timeout: 60_000 }, async () => {
  const { engine, ledger, campaigns, codes } = codesEngine(faulty);
  const window = { startsAt: new Date(Date.now() - 3600_000), endsAt: new Date(Date.now() + 86_400_000), status: 'active' };
  const open = await campaigns.create({ name: 'Open', ...window } as never, 'admin:test');
  const tight = await campaigns.create({ name: 'Tight', budget: 100, ...window } as never, 'admin:test');
  const { codes: openCodes } = await codes.createBatch(open.id, { count: 30, points: 5 }, 'admin:test');
  const { codes: tightCodes } = await codes.createBatch(tight.id, { count: 30, points: 10 }, 'admin:test');

  const { programId, people } = await seedWebChatters(db.sql, 'g', 60, '61');
  const message = webMessage('g');
  // Participant 60 has already sent a message the platform will deliver again in the burst.
  await engine.receive(message(60, 'pomoc', 'again'));
  const before60 = (await outboxOf(db.sql, 'g-60', 'web')).length;

  // 1–30: open codes; 31–58: tight codes (budget for 10 of them); 59: the bug; 60: the repeat.
  const burst = [
    ...people.filter((p) => p.n <= 30).map((p) => message(p.n, openCodes[p.n - 1]!)),
    ...people.filter((p) => p.n > 30 && p.n <= 58).map((p) => message(p.n, tightCodes[p.n - 31]!)),
    message(59, 'boom'),
    message(60, 'pomoc', 'again'),
    // two people nobody knows yet: their identities are created and registration starts
    ...[1, 2].map((k): Inbound => ({ kind: 'text', text: 'cześć', messageId: `new-${k}`, from: { channel: 'web', externalId: `new-${k}` }, receivedAt: new Date() })),
  ].sort(() => Math.random() - 0.5);
  const statuses = await Promise.all(burst.map((m) => engine.receive(m)));
  expect(statuses.filter((s) => s.status === 'duplicate')).toHaveLength(1);

  // Batches really formed: messages committed by one transaction share its xmin.
  const [tx] = await db.sql<{ messages: number; transactions: number }[]>`
    select count(*)::int as messages, count(distinct xmin::text)::int as transactions
      from inbox where message_id like 'g-%' or message_id like 'new-%'`;
  expect(tx!.messages).toBe(61);
  expect(tx!.transactions).toBeLessThan(30);

  const t = i18n.t('pl');
  const repliesOf = async (n: number) => (await outboxOf(db.sql, `g-${n}`, 'web')).map((o) => o.text);
  let openCredited = 0;
  for (let n = 1; n <= 30; n++) {
    const replies = await repliesOf(n);
    expect(replies).toHaveLength(1);
    if (replies[0]!.startsWith('✅')) openCredited++;
  }
  expect(openCredited).toBe(30);
  let tightCredited = 0;
  let exhausted = 0;
  for (let n = 31; n <= 58; n++) {
    const replies = await repliesOf(n);
    expect(replies).toHaveLength(1);
    if (replies[0]!.startsWith('✅')) tightCredited++;
    else if (replies[0] === t('codes:budget_exhausted', { code: tightCodes[n - 31] })) exhausted++;
  }
  expect({ tightCredited, exhausted }).toEqual({ tightCredited: 10, exhausted: 18 });
  expect(await repliesOf(59)).toEqual([t('common:error_generic')]);
  for (const k of [1, 2]) {
    const [state] = await db.sql<{ state: { step: { step: string } } }[]>`
      select c.state from conversations c join channel_identities i on i.id = c.identity_id where i.external_id = ${`new-${k}`}`;
    expect(state!.state.step.step).toMatch(/^reg\./);
    expect((await outboxOf(db.sql, `new-${k}`, 'web')).length).toBeGreaterThan(0);
  }
  expect((await outboxOf(db.sql, 'g-60', 'web')).length).toBe(before60);

  // Points: what was credited and nothing else; every refused code still unused.
  const balances = await Promise.all(people.map((p) => ledger.balance(db.sql, programId, p.id)));
  expect(balances.reduce((s, b) => s + b.available, 0)).toBe(30 * 5 + 10 * 10);
  const [used] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from codes c join code_batches b on b.id = c.batch_id
     where c.uses > 0 and b.campaign_id in (${open.id}, ${tight.id})`;
  expect(used!.n).toBe(40);
  expect((await ledger.check()).ok).toBe(true);
});
