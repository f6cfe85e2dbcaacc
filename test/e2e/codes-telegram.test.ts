/**
 * Codes end to end on Telegram: a batch created through the admin API, three participants (pl, pt,
 * be) registering and redeeming through the real grammY bot (long polling against the fake Bot
 * API, test/fakes), the real engine, outbox and sender; every outcome reaches the chat in the
 * participant's language, balances match the ledger and the reconciliation passes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import type { Locale } from '../../src/i18n/index.js';
import { buildServer } from '../../src/http/server.js';
import { createAdminTokens } from '../../src/services/admin-tokens.js';
import { createLedger, type Ledger } from '../../src/services/ledger/index.js';
import { createCampaigns } from '../../src/services/campaigns/index.js';
import { createCodes, createCodeHasher } from '../../src/services/codes/index.js';
import { createCodesFlow } from '../../src/dialog/flows/codes/index.js';
import { campaignRoutes } from '../../src/http/routes/campaigns.js';
import { codeBatchRoutes } from '../../src/http/routes/code-batches.js';
import { ledgerRoutes } from '../../src/http/routes/ledger.js';
import { createSales } from '../../src/services/sales/index.js';
import { checkSymbol } from '../../src/domain/codes/code-format.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { clearPrefix, testQueuePrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { testLogger } from '../helpers/logger.js';
import { startFakeTelegram, type FakeTelegram, type FakeUser, type SentMessage } from '../fakes/telegram-server.js';
import { startTelegramStack, type TelegramStack } from './telegram-stack.js';

let db: TestDatabase;
let tg: FakeTelegram;
let stack: TelegramStack;
let app: FastifyInstance;
let redis: Redis;
let ledger: Ledger;
let auth: { authorization: string };
let batchCodes: string[];
const prefix = testQueuePrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  ledger = createLedger({ sql: db.sql });
  const campaigns = createCampaigns({ sql: db.sql });
  const codes = createCodes({ sql: db.sql, ledger, campaigns, hash: createCodeHasher(randomBytes(32)) });
  const sales = createSales({ ledger, campaigns });
  const adminTokens = createAdminTokens({ sql: db.sql });
  auth = { authorization: `Bearer ${(await adminTokens.bootstrap(undefined))!}` };
  app = await buildServer({
    logger: testLogger(),
    sql: db.sql,
    redis,
    adminTokens,
    apiRoutes: [campaignRoutes({ sql: db.sql, campaigns, sales }), codeBatchRoutes({ codes }), ledgerRoutes(ledger)],
  });
  tg = await startFakeTelegram();
  stack = await startTelegramStack({ sql: db.sql, tg, prefix, modules: [createCodesFlow({ codes })] });

  const campaign = await app.inject({
    method: 'POST',
    url: '/api/v1/campaigns',
    headers: auth,
    payload: { name: { pl: 'Lato', pt: 'Verão', be: 'Лета' }, startsAt: '2026-01-01T00:00:00Z', endsAt: '2030-01-01T00:00:00Z', status: 'active' },
  });
  const batch = await app.inject({
    method: 'POST',
    url: `/api/v1/campaigns/${campaign.json().id}/code-batches`,
    headers: auth,
    payload: { count: 10, points: 50 },
  });
  expect(batch.statusCode).toBe(201);
  batchCodes = batch.json().codes;
});

afterAll(async () => {
  await stack?.stop();
  await tg?.close();
  await app?.close();
  redis?.disconnect();
  await db?.drop();
  await clearPrefix(prefix);
});

const buttons = (m: SentMessage): string[] =>
  ((m.reply_markup?.inline_keyboard as Array<Array<{ text: string }>> | undefined) ?? []).flat().map((b) => b.text);

async function register(user: FakeUser, locale: Locale, phone: string, name: string, payload?: string) {
  const t = stack.i18n.t(locale);
  user.command('start', payload);
  if (!user.options.languageCode) {
    const q = await tg.nextMatching(user.id, (m) => buttons(m).includes(t('common:language_name')));
    user.press(q, t('common:language_name'));
  }
  const consent = await tg.nextMatching(user.id, (m) => buttons(m).includes(t('bot:reg.consent_accept')));
  user.press(consent, t('bot:reg.consent_accept'));
  await tg.nextMatching(user.id, (m) => m.text === t('bot:reg.phone'));
  user.shareContact(phone);
  await tg.nextMatching(user.id, (m) => m.text === t('bot:reg.name'));
  user.text(name);
  const role = await tg.nextMatching(user.id, (m) => m.text === t('bot:reg.role'));
  user.press(role, t('bot:role.consumer'));
  await tg.nextMatching(user.id, (m) => m.text.includes(t('bot:reg.done', { name })));
}

/** Sends a text and waits for the bot's answer that contains `expected`. */
async function say(user: FakeUser, text: string, expected: string): Promise<SentMessage> {
  user.text(text);
  return tg.nextMatching(user.id, (m) => m.text.includes(expected));
}

const points = (locale: Locale, n: number) => stack.i18n.t(locale)('common:points', { count: n });
const credited = (locale: Locale, code: string, campaign: string, balance: number) =>
  stack.i18n.t(locale)('codes:credited', { code, points: points(locale, 50), campaign, balance: points(locale, balance) });

const CYRILLIC: Record<string, string> = { A: 'А', B: 'В', E: 'Е', K: 'К', M: 'М', H: 'Н', P: 'Р', C: 'С', T: 'Т', X: 'Х' };

describe('codes on Telegram', () => {
  it('three participants in pl, pt and be redeem codes and see every outcome in their language', { timeout: 120_000 }, async () => {
    const kasia = tg.user(48_100_001, { firstName: 'Kasia', languageCode: 'pl' });
    const joao = tg.user(35_100_002, { firstName: 'João', languageCode: 'pt-BR' });
    const ales = tg.user(37_500_003, { firstName: 'Алесь' });
    await register(kasia, 'pl', '48601000001', 'Kasia');
    await register(joao, 'pt-PT', '351912000002', 'João');
    await register(ales, 'be', '375291000003', 'Алесь');
    const [c0, c1, c2, c3, c4] = batchCodes as [string, string, string, string, string];

    // pl: credited with campaign and balance; then someone else's attempt is "already used".
    await say(kasia, c0, credited('pl', c0, 'Lato', 50));
    const pt = stack.i18n.t('pt-PT');
    const used = await say(joao, c0, pt('codes:already_used', { code: c0, when: new Date() }).slice(0, 20));
    expect(used.text).not.toContain('Kasia');

    // pt: lower case with spaces, two codes in one message → one line each.
    const two = await say(joao, `${c1.toLowerCase().replaceAll('-', ' ')}\n${c2}`, credited('pt-PT', c1, 'Verão', 50));
    expect(two.text.split('\n')).toEqual([credited('pt-PT', c1, 'Verão', 50), credited('pt-PT', c2, 'Verão', 100)]);

    // be: Cyrillic look-alikes typed on a Belarusian keyboard; a typo; an unknown code.
    const be = stack.i18n.t('be');
    const cyr = [...c3].map((ch) => CYRILLIC[ch] ?? ch).join('');
    await say(ales, cyr, credited('be', c3, 'Лета', 50));
    const plain = c4.replaceAll('-', '');
    const typo = plain.slice(0, 4) + (plain[4] === '7' ? '8' : '7') + plain.slice(5);
    await say(ales, typo, be('codes:mistyped', { code: typo }));
    const unknown = 'ZZZZ9999' + checkSymbol('ZZZZ9999');
    await say(ales, unknown, be('codes:unknown', { code: 'ZZZZ-9999-' + checkSymbol('ZZZZ9999') }));

    // Five unknown codes lock the chat with the time in Belarusian format.
    const guesses = ['QQ000001', 'QQ000002', 'QQ000003', 'QQ000004'].map((b) => b + checkSymbol(b)).join('\n');
    const locked = await say(ales, guesses, be('codes:locked', { until: new Date() }).slice(0, 12));
    expect(locked.text).toMatch(/\d{1,2}:\d{2}/);
    await say(ales, c4, be('codes:locked', { until: new Date() }).slice(0, 12));

    // Balances match the ledger, and the ledger reconciles.
    const balanceOf = async (telegramId: number) => {
      const [row] = await db.sql<{ programId: string; id: string }[]>`
        select p.program_id, p.id from participants p join channel_identities i on i.participant_id = p.id
        where i.channel = 'telegram' and i.external_id = ${String(telegramId)}`;
      return (await ledger.balance(db.sql, row!.programId, row!.id)).available;
    };
    expect([await balanceOf(kasia.id), await balanceOf(joao.id), await balanceOf(ales.id)]).toEqual([50, 100, 50]);
    const check = await app.inject({ url: '/api/v1/ledger/check', headers: auth });
    expect(check.json()).toMatchObject({ ok: true, problems: [] });
  });

  it('a /start deep link with a code redeems it right after registration', { timeout: 60_000 }, async () => {
    const code = batchCodes[5]!;
    const ana = tg.user(35_100_009, { firstName: 'Ana', languageCode: 'pt-PT' });
    await register(ana, 'pt-PT', '351913000009', 'Ana', `code_${code.replaceAll('-', '')}`);
    await tg.nextMatching(ana.id, (m) => m.text.includes(credited('pt-PT', code, 'Verão', 50)));
  });
});
