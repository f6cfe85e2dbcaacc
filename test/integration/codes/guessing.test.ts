/**
 * Code guessing is limited however the guesser spreads it: per phone and per network address as
 * well as per participant and chat, and for pre-printed (imported) codes, which carry no check
 * symbol, as for Punkto's own. Imported codes are redeemed from any point of the chat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { buildEngine, outboxOf, seedWebChatters } from '../../helpers/dialog-harness.js';
import { fixedClock } from '../../../src/shared/clock.js';
import { createLedger } from '../../../src/services/ledger/index.js';
import { createCampaigns, type CampaignsService } from '../../../src/services/campaigns/index.js';
import { createCodes, createCodeHasher, type CodesService, type RedeemInput } from '../../../src/services/codes/index.js';
import { createCodesFlow } from '../../../src/dialog/flows/codes/index.js';
import { checkSymbol } from '../../../src/domain/codes/code-format.js';
import type { Earner } from '../../../src/domain/campaigns/campaign.js';
import { createSummerCampaign } from '../../fixtures/campaigns.js';

let db: TestDatabase;
let campaigns: CampaignsService;
let codes: CodesService;
let programId: string;
const clock = fixedClock('2026-06-10T08:00:00Z');
const hash = createCodeHasher(randomBytes(32));

const consumer = (): Earner => ({ id: randomUUID(), programId, role: 'consumer' });
/** An unknown code with a valid check symbol: a guess at one of Punkto's codes. */
const guess = (i: number) => {
  const body = `GG${String(i).padStart(6, '0')}`;
  return body + checkSymbol(body);
};
const redeem = (p: Earner, list: string[], extra: Partial<RedeemInput> = {}) =>
  codes.redeem(undefined, { participant: p, identity: { channel: 'web', externalId: `w-${p.id}` }, codes: list, ...extra });
const statuses = async (p: Earner, list: string[], extra: Partial<RedeemInput> = {}) => (await redeem(p, list, extra)).map((o) => o.status);

beforeAll(async () => {
  db = await createTestDatabase();
  const ledger = createLedger({ sql: db.sql, clock });
  campaigns = createCampaigns({ sql: db.sql, clock });
  codes = createCodes({ sql: db.sql, ledger, campaigns, hash, clock });
  programId = await campaigns.defaultProgramId();
});
afterAll(async () => {
  await db?.drop();
});

describe('code guessing limits', () => {
  it('new accounts on one phone share its guesses: the fifth guess from the phone locks it', async () => {
    const phone = '+48 600 700 800';
    const [a, b] = [consumer(), consumer()];
    expect(await statuses(a, [guess(1), guess(2), guess(3)], { phone })).toEqual(['unknown', 'unknown', 'unknown']);
    expect(await statuses(b, [guess(4), guess(5)], { phone: '+48600700800' })).toEqual(['unknown', 'unknown', 'locked']);
    // A third account on the same number is locked before it guesses at all.
    expect(await statuses(consumer(), [guess(6)], { phone: '48600700800' })).toEqual(['locked']);
    expect((await codes.lockouts()).map((l) => l.subject)).toContain('ph:48600700800');
  });

  it('accounts behind one network address share its guesses', async () => {
    const network = '203.0.113.7';
    for (let i = 0; i < 4; i++) expect(await statuses(consumer(), [guess(20 + i)], { network })).toEqual(['unknown']);
    expect(await statuses(consumer(), [guess(30)], { network })).toEqual(['unknown', 'locked']);
    expect(await statuses(consumer(), [guess(31)], { network })).toEqual(['locked']);
    // Another address is not affected.
    expect(await statuses(consumer(), [guess(32)], { network: '198.51.100.9' })).toEqual(['unknown']);
  });

  it('with imported codes in the program, an unknown code with a wrong check symbol counts as a guess', async () => {
    clock.set('2026-06-11T08:00:00Z');
    const c = await createSummerCampaign(campaigns);
    // Pre-printed codes of 9 symbols: the length of Punkto's default codes, but no check symbol.
    await codes.importBatch(c.id, { points: 5, codes: ['PRNT00001', 'PRNT00002'] }, 'admin:test');
    const p = consumer();
    const wrong = (i: number) => {
      const body = `PRNT1${String(i).padStart(3, '0')}`;
      const check = checkSymbol(body);
      return body + (check === 'Z' ? 'Y' : 'Z'); // never the right check symbol
    };
    expect(await statuses(p, [wrong(1), wrong(2), wrong(3), wrong(4)])).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
    expect(await statuses(p, [wrong(5)])).toEqual(['unknown', 'locked']);
    // Of another length no imported code exists: still a typo of one of Punkto's codes.
    const q = consumer();
    const body = 'TYPE00000001';
    const typo = body + (checkSymbol(body) === 'Z' ? 'Y' : 'Z');
    for (let i = 0; i < 6; i++) expect(await statuses(q, [typo])).toEqual(['mistyped']);
  });
});

describe('imported codes in the chat', () => {
  it('a pre-printed code of any shape is redeemed from any point of the chat, not only under "enter a code"', async () => {
    const base = buildEngine(db.sql);
    const chatCodes = createCodes({ sql: db.sql, ledger: base.ledger, campaigns: createCampaigns({ sql: db.sql }), hash });
    const { engine } = buildEngine(db.sql, [createCodesFlow({ codes: chatCodes })]);
    const c = await campaigns.create(
      { name: 'Tampas', startsAt: new Date(Date.now() - 3600_000), endsAt: new Date(Date.now() + 86_400_000), status: 'active' },
      'admin:test',
    );
    // Letters only, and digits only: neither looks like one of Punkto's codes.
    await chatCodes.importBatch(c.id, { points: 7, codes: ['TAMPAVERDE', '4815162342'] }, 'admin:test');
    const { people } = await seedWebChatters(db.sql, 'tampa', 1, '66');
    const send = (text: string, n: number) =>
      engine.receive({ kind: 'text', text, messageId: `tampa-${n}`, from: { channel: 'web', externalId: `tampa-${people[0]!.n}` }, receivedAt: new Date() });
    await send('tampa verde', 1);
    await send('4815162342', 2);
    const replies = (await outboxOf(db.sql, `tampa-${people[0]!.n}`, 'web')).map((o) => o.text);
    expect(replies).toHaveLength(2);
    expect(replies[0]).toContain('Tampas');
    expect(replies[1]).toContain('Tampas');
    expect((await base.ledger.balance(db.sql, programId, people[0]!.id)).available).toBe(14);
  });
});
