import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import type { TestDatabase } from '../../helpers/db.js';
import { openCodesTestBed } from '../../helpers/codes.js';
import { fixedClock } from '../../../src/shared/clock.js';
import type { Ledger } from '../../../src/services/ledger/index.js';
import type { CampaignsService } from '../../../src/services/campaigns/index.js';
import { createSummerCampaign } from '../../fixtures/campaigns.js';
import { createCodes, createCodeHasher, type CodesService, type RedeemOutcome } from '../../../src/services/codes/index.js';
import { checkSymbol, formatCode } from '../../../src/domain/codes/code-format.js';
import type { Earner } from '../../../src/domain/campaigns/campaign.js';

let db: TestDatabase;
let ledger: Ledger;
let campaigns: CampaignsService;
let codes: CodesService;
let programId: string;
const clock = fixedClock('2026-06-01T10:00:00Z');
const secret = randomBytes(32);

const consumer = (): Earner => ({ id: randomUUID(), programId, role: 'consumer' });
const ident = (p: Earner) => ({ channel: 'telegram', externalId: `tg-${p.id}` });
const redeem = (p: Earner, list: string[]) => codes.redeem(undefined, { participant: p, identity: ident(p), codes: list });
const one = async (p: Earner, code: string): Promise<RedeemOutcome> => (await redeem(p, [code]))[0]!;

const campaign = (extra: Record<string, unknown> = {}) => createSummerCampaign(campaigns, extra);

beforeAll(async () => {
  ({ db, ledger, campaigns, codes, programId } = await openCodesTestBed({ clock, secret, max: 20 }));
});
afterAll(async () => {
  await db?.drop();
});

describe('code redemption', () => {
  it('credits a code once, with campaign and new balance, however it is typed', async () => {
    const c = await campaign();
    const { codes: list } = await codes.createBatch(c.id, { count: 3, points: 50 }, 'admin:test');
    const p = consumer();
    const typed = list[0]!.toLowerCase().replaceAll('-', ' ');
    const first = await one(p, typed);
    expect(first).toMatchObject({ status: 'credited', points: 50, campaignId: c.id, balance: 50 });
    expect(await one(p, list[0]!)).toMatchObject({ status: 'already_used', at: clock.now() });
    expect(await one(consumer(), list[0]!)).toMatchObject({ status: 'already_used', byYou: false });
    const both = await redeem(p, [list[1]!, list[2]!]);
    expect(both.map((o) => o.status)).toEqual(['credited', 'credited']);
    expect((await ledger.balance(db.sql, programId, p.id)).available).toBe(150);
    expect((await ledger.check()).ok).toBe(true);
  });

  it('the balance in the answer is what can be spent: points held for an order do not count', async () => {
    const c = await campaign();
    const { codes: list } = await codes.createBatch(c.id, { count: 2, points: 10 }, 'admin:test');
    const p = consumer();
    const who = { programId, participantId: p.id };
    await ledger.earn(db.sql, { ...who, amount: 50, source: 'bonus', key: `bonus:${p.id}`, reason: { key: 'x' } });
    await ledger.hold(db.sql, { ...who, amount: 20, key: `order:${p.id}:hold`, reason: { key: 'x' } });
    expect(await one(p, list[0]!)).toMatchObject({ status: 'credited', points: 10, balance: 40 });
    await ledger.spend(db.sql, { ...who, amount: 5, key: `spend:${p.id}`, reason: { key: 'x' } });
    expect(await one(p, list[1]!)).toMatchObject({ status: 'credited', points: 10, balance: 45 });
    expect((await ledger.balance(db.sql, programId, p.id)).available).toBe(45);
  });

  it("a change to the campaign applies from the very next code (the service's copy is refreshed)", async () => {
    const c = await campaign();
    const { codes: list } = await codes.createBatch(c.id, { count: 3, points: 10 }, 'admin:test');
    const p = consumer();
    expect(await one(p, list[0]!)).toMatchObject({ status: 'credited', points: 10 });
    const triple = { startsAt: new Date('2026-05-01T00:00:00Z'), endsAt: new Date('2026-07-01T00:00:00Z'), factor: 3 };
    await campaigns.patch(c.id, { multipliers: [triple] }, 'admin:test');
    expect(await one(p, list[1]!)).toMatchObject({ status: 'credited', points: 30 });
    await campaigns.patch(c.id, { endsAt: new Date('2026-06-01T09:00:00Z') }, 'admin:test');
    expect((await one(p, list[2]!)).status).toBe('campaign_over');
  });

  it('tells a mistyped code (check symbol) from an unknown one', async () => {
    const c = await campaign();
    const { codes: list } = await codes.createBatch(c.id, { count: 1, points: 10 }, 'admin:test');
    const canonical = list[0]!.replaceAll('-', '');
    const typo = canonical.slice(0, 2) + (canonical[2] === '7' ? '8' : '7') + canonical.slice(3);
    const p = consumer();
    expect((await one(p, typo)).status).toBe('mistyped');
    const unknownBody = 'ZZZZ9999';
    expect((await one(p, unknownBody + checkSymbol(unknownBody))).status).toBe('unknown');
  });

  it('refuses expired codes, codes for another role, and campaigns not started or over', async () => {
    const c = await campaign();
    const expired = await codes.createBatch(c.id, { count: 1, points: 5, expiresAt: new Date('2026-05-15T00:00:00Z') }, 'a');
    const staffOnly = await codes.createBatch(c.id, { count: 1, points: 5, audienceRole: 'retail_staff' }, 'a');
    const later = await campaign({ startsAt: new Date('2026-07-01T00:00:00Z') });
    const laterCodes = await codes.createBatch(later.id, { count: 1, points: 5 }, 'a');
    const past = await campaign({ startsAt: new Date('2026-01-01T00:00:00Z'), endsAt: new Date('2026-02-01T00:00:00Z') });
    const pastCodes = await codes.createBatch(past.id, { count: 1, points: 5 }, 'a');
    const p = consumer();
    expect(await one(p, expired.codes[0]!)).toMatchObject({ status: 'expired' });
    expect(await one(p, staffOnly.codes[0]!)).toMatchObject({ status: 'not_for_role' });
    expect(await one({ ...p, role: 'retail_staff' }, staffOnly.codes[0]!)).toMatchObject({ status: 'credited' });
    expect(await one(p, laterCodes.codes[0]!)).toMatchObject({ status: 'not_started' });
    expect(await one(p, pastCodes.codes[0]!)).toMatchObject({ status: 'campaign_over' });
  });

  it('applies multipliers, daily caps (code stays unused) and the budget', async () => {
    const c = await campaign({
      multipliers: [{ startsAt: new Date('2026-06-01T00:00:00Z'), endsAt: new Date('2026-06-02T00:00:00Z'), factor: 2 }],
      caps: { perParticipantPerDay: 100 },
    });
    const { codes: list } = await codes.createBatch(c.id, { count: 4, points: 30 }, 'a');
    const p = consumer();
    const r = await redeem(p, list.slice(0, 2));
    expect(r.map((o) => (o.status === 'credited' ? o.points : o.status))).toEqual([60, 'daily_cap']);
    clock.advance(24 * 3600_000);
    expect(await one(p, list[1]!)).toMatchObject({ status: 'credited', points: 30 });
    clock.set('2026-06-01T10:00:00Z');

    const budgeted = await campaign({ budget: 100 });
    const b = await codes.createBatch(budgeted.id, { count: 3, points: 40 }, 'a');
    const out = await redeem(consumer(), b.codes);
    expect(out.map((o) => o.status)).toEqual(['credited', 'credited', 'budget_exhausted']);
    const after = await campaigns.get(budgeted.id);
    expect(after!.awarded).toBe(80);
    expect(after!.budgetExhaustedAt).not.toBeNull();
    const [alert] = await db.sql`select * from audit_log where action = 'campaign.budget_exhausted' and target = ${`campaign:${budgeted.id}`}`;
    expect(alert).toBeDefined();
  });

  it('multi-use codes credit each participant once', async () => {
    const c = await campaign();
    const { codes: list } = await codes.createBatch(c.id, { count: 1, points: 7, usesPerCode: 3 }, 'a');
    const ps = [consumer(), consumer(), consumer(), consumer()];
    expect((await one(ps[0]!, list[0]!)).status).toBe('credited');
    expect(await one(ps[0]!, list[0]!)).toMatchObject({ status: 'already_used', byYou: true });
    expect((await one(ps[1]!, list[0]!)).status).toBe('credited');
    expect((await one(ps[2]!, list[0]!)).status).toBe('credited');
    expect((await one(ps[3]!, list[0]!)).status).toBe('already_used');
    const stats = await codes.stats((await codes.batches(c.id))[0]!.id);
    expect(stats).toMatchObject({ total: 1, used: 1, redemptions: 3, points: 21 });
  });

  it('100 participants sending the same code at once: exactly one credit', async () => {
    const c = await campaign();
    const { codes: list } = await codes.createBatch(c.id, { count: 1, points: 25 }, 'a');
    const ps = Array.from({ length: 100 }, consumer);
    const results = await Promise.all(ps.map((p) => one(p, list[0]!)));
    expect(results.filter((r) => r.status === 'credited')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'already_used')).toHaveLength(99);
    const [sum] = await db.sql<{ n: number; total: number }[]>`
      select count(*)::int as n, coalesce(sum(r.points), 0)::int as total from code_redemptions r
      join codes k on k.id = r.code_id join code_batches b on b.id = k.batch_id where b.campaign_id = ${c.id}`;
    expect(sum).toEqual({ n: 1, total: 25 });
    const balances = await Promise.all(ps.map((p) => ledger.balance(db.sql, programId, p.id)));
    expect(balances.reduce((s, b) => s + b.available, 0)).toBe(25);
    expect((await ledger.check()).ok).toBe(true);
  });

  it('stores only keyed hashes: no clear code in the database', async () => {
    const c = await campaign();
    const { codes: list } = await codes.createBatch(c.id, { count: 5, points: 1 }, 'a');
    const dump = JSON.stringify(await db.sql`select * from codes join code_batches b on b.id = codes.batch_id where b.campaign_id = ${c.id}`);
    for (const code of list) {
      expect(dump).not.toContain(code.replaceAll('-', ''));
      expect(dump).not.toContain(code);
    }
    // Another secret cannot redeem them.
    const other = createCodes({ sql: db.sql, ledger, campaigns, hash: createCodeHasher(randomBytes(32)), clock });
    const p = consumer();
    expect((await other.redeem(undefined, { participant: p, identity: ident(p), codes: [list[0]!] }))[0]!.status).toBe('unknown');
  });
});

describe('guess lockout', () => {
  const unknownCode = (i: number) => {
    const b = `QQ${String(i).padStart(6, '0')}`;
    return formatCode(b + checkSymbol(b));
  };

  it('locks after 5 unknown codes in 10 minutes for 15 minutes, then doubles; typos do not count', async () => {
    clock.set('2026-06-10T08:00:00Z');
    const c = await campaign();
    const { codes: list } = await codes.createBatch(c.id, { count: 2, points: 5 }, 'a');
    const p = consumer();
    // a typo of a real code is not a guess
    const canonical = list[0]!.replaceAll('-', '');
    const typo = canonical.slice(0, 1) + (canonical[1] === 'A' ? 'B' : 'A') + canonical.slice(2);
    for (let i = 0; i < 6; i++) expect((await one(p, typo)).status).toBe('mistyped');

    for (let i = 0; i < 4; i++) expect((await one(p, unknownCode(i))).status).toBe('unknown');
    const fifth = await redeem(p, [unknownCode(4)]);
    expect(fifth.map((o) => o.status)).toEqual(['unknown', 'locked']);
    const until = new Date('2026-06-10T08:15:00Z');
    expect(fifth[1]).toMatchObject({ until });
    // Even a valid code waits: the lockout covers the participant…
    expect(await one(p, list[0]!)).toMatchObject({ status: 'locked', until });
    // …and the chat identity, whoever is registered behind it.
    const sameChat = { ...consumer() };
    expect(
      (await codes.redeem(undefined, { participant: sameChat, identity: ident(p), codes: [list[0]!] }))[0],
    ).toMatchObject({ status: 'locked' });
    const visible = await codes.lockouts();
    expect(visible.map((l) => l.subject)).toContain(`p:${p.id}`);

    clock.set('2026-06-10T08:15:01Z');
    expect(await one(p, list[0]!)).toMatchObject({ status: 'credited' });
    // Again 5 guesses → 30 minutes this time.
    for (let i = 10; i < 14; i++) await one(p, unknownCode(i));
    const again = await redeem(p, [unknownCode(14)]);
    expect(again[1]).toMatchObject({ status: 'locked', until: new Date('2026-06-10T08:45:01Z') });
  });

  it('guesses spread over more than 10 minutes do not lock', async () => {
    clock.set('2026-06-11T08:00:00Z');
    const p = consumer();
    for (let i = 0; i < 8; i++) {
      expect((await one(p, unknownCode(100 + i))).status).toBe('unknown');
      clock.advance(3 * 60_000);
    }
  });
});
