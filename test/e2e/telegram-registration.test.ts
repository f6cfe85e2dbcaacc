/**
 * Registration through the real grammY bot (long polling against the fake Bot API), the real
 * engine, the real outbox sender and a fresh database: what a participant sees on their phone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locale } from '../../src/i18n/index.js';
import type { FlowModule } from '../../src/dialog/flow.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { clearPrefix, testQueuePrefix } from '../helpers/redis.js';
import { startFakeTelegram, type FakeTelegram, type FakeUser, type SentMessage } from '../fakes/telegram-server.js';
import { startTelegramStack, type TelegramStack } from './telegram-stack.js';

let db: TestDatabase;
let tg: FakeTelegram;
let stack: TelegramStack;
const prefix = testQueuePrefix();

/** Answers `/start c_<campaign>` deep links once the participant is registered. */
const campaignLinks: FlowModule = {
  id: 'campaignlinks',
  onStartPayload: (ctx, payload) =>
    payload.startsWith('c_') ? { replies: [`campaign ${payload.slice(2)} for ${ctx.participant.name}`], next: 'keep' } : undefined,
};

beforeAll(async () => {
  db = await createTestDatabase();
  tg = await startFakeTelegram();
  stack = await startTelegramStack({ sql: db.sql, tg, prefix, modules: [campaignLinks] });
});

afterAll(async () => {
  await stack?.stop();
  await tg?.close();
  await db?.drop();
  await clearPrefix(prefix);
});

const buttons = (m: SentMessage): string[] =>
  ((m.reply_markup?.inline_keyboard as Array<Array<{ text: string }>> | undefined) ?? []).flat().map((b) => b.text);
const asksForContact = (m: SentMessage) =>
  ((m.reply_markup?.keyboard as Array<Array<{ request_contact?: boolean }>> | undefined) ?? []).flat().some((b) => b.request_contact);

interface Journey {
  user: FakeUser;
  locale: Locale;
  phone: string;
  name: string;
  /** The language is not known from Telegram: the bot asks, the participant picks. */
  picksLanguage?: boolean;
  payload?: string;
}

/** Walks a participant through registration, checking each question is asked in their language. */
async function register(j: Journey): Promise<SentMessage[]> {
  const t = stack.i18n.t(j.locale);
  const seen: SentMessage[] = [];
  const next = async (what: string, predicate: (m: SentMessage) => boolean) => {
    const m = await tg.nextMatching(j.user.id, predicate).catch((e: Error) => {
      throw new Error(`${what}: ${e.message}`);
    });
    seen.push(m);
    return m;
  };
  j.user.command('start', j.payload);
  if (j.picksLanguage) {
    const question = await next('language question', (m) => buttons(m).includes(t('common:language_name')));
    // Asked in all three languages at once: nobody has to guess.
    for (const l of ['pl', 'pt-PT', 'be'] as const) expect(question.text).toContain(stack.i18n.t(l)('bot:reg.choose_language'));
    j.user.press(question, t('common:language_name'));
  }
  const consent = await next('consent', (m) => buttons(m).includes(t('bot:reg.consent_accept')));
  expect(buttons(consent)).toContain(t('bot:reg.consent_decline'));
  j.user.press(consent, t('bot:reg.consent_accept'));

  const phone = await next('phone request', asksForContact);
  expect(phone.text).toBe(t('bot:reg.phone'));
  expect(phone.reply_markup).toMatchObject({ one_time_keyboard: true, keyboard: [[{ text: t('bot:reg.phone_button'), request_contact: true }]] });
  j.user.shareContact(j.phone);

  const name = await next('name question', (m) => m.text === t('bot:reg.name'));
  // The contact keyboard goes away once the number is in.
  expect(name.reply_markup).toEqual({ remove_keyboard: true });
  j.user.text(j.name);

  const role = await next('role question', (m) => m.text === t('bot:reg.role'));
  j.user.press(role, t('bot:role.consumer'));
  await next('welcome', (m) => m.text.includes(t('bot:reg.done', { name: j.name })));
  return seen;
}

async function participantOf(telegramUserId: number) {
  const [row] = await db.sql<
    Array<{ name: string; phone: string; phoneVerified: boolean; role: string; locale: string | null; consentVersion: string | null; registeredAt: Date | null }>
  >`select p.name, p.phone, p.phone_verified, p.role, p.locale, p.consent_version, p.registered_at
    from participants p join channel_identities i on i.participant_id = p.id
    where i.channel = 'telegram' and i.external_id = ${String(telegramUserId)}`;
  return row;
}

describe('registration on Telegram', () => {
  it('in Polish, from Telegram\'s language', { timeout: 60_000 }, async () => {
    const kasia = tg.user(48_000_001, { firstName: 'Kasia', languageCode: 'pl' });
    await register({ user: kasia, locale: 'pl', phone: '48601234567', name: 'Kasia Nowak' });
    expect(await participantOf(kasia.id)).toMatchObject({
      name: 'Kasia Nowak',
      phone: '+48601234567',
      phoneVerified: true,
      role: 'consumer',
      consentVersion: expect.any(String),
      registeredAt: expect.any(Date),
    });
  });

  it('in Portuguese, from a pt-BR Telegram', { timeout: 60_000 }, async () => {
    const joao = tg.user(35_100_002, { firstName: 'João', languageCode: 'pt-BR' });
    await register({ user: joao, locale: 'pt-PT', phone: '+351 912 345 678', name: 'João Silva' });
    expect(await participantOf(joao.id)).toMatchObject({ name: 'João Silva', phone: '+351912345678', phoneVerified: true });
  });

  it('in Belarusian, picked from the language question when Telegram gives no hint', { timeout: 60_000 }, async () => {
    const ales = tg.user(37_500_003, { firstName: 'Алесь' });
    await register({ user: ales, locale: 'be', phone: '375291234567', name: 'Алесь Каліноўскі', picksLanguage: true });
    expect(await participantOf(ales.id)).toMatchObject({ name: 'Алесь Каліноўскі', locale: 'be', phoneVerified: true });
  });

  it('keeps a /start deep link through registration and hands it over afterwards', { timeout: 60_000 }, async () => {
    const ana = tg.user(35_100_004, { firstName: 'Ana', languageCode: 'pt-PT' });
    await register({ user: ana, locale: 'pt-PT', phone: '351913000444', name: 'Ana Costa', payload: 'c_spring' });
    await tg.nextMatching(ana.id, (m) => m.text === 'campaign spring for Ana Costa');
    // A registered participant's deep link goes straight to the campaign.
    ana.command('start', 'c_summer');
    await tg.nextMatching(ana.id, (m) => m.text === 'campaign summer for Ana Costa');
  });

  it('refuses someone else\'s contact and takes the sender\'s own', { timeout: 60_000 }, async () => {
    const piotr = tg.user(48_000_005, { firstName: 'Piotr', languageCode: 'pl' });
    const t = stack.i18n.t('pl');
    piotr.command('start');
    const consent = await tg.nextMatching(piotr.id, (m) => buttons(m).includes(t('bot:reg.consent_accept')));
    piotr.press(consent, t('bot:reg.consent_accept'));
    await tg.nextMatching(piotr.id, asksForContact);

    piotr.sendContactOf('48609999999', 77_777);
    await tg.nextMatching(piotr.id, (m) => m.text === t('bot:reg.phone_not_own'));
    // A card without any Telegram user behind it proves nothing either.
    piotr.sendContactOf('48608888888');
    await tg.nextMatching(piotr.id, (m) => m.text === t('bot:reg.phone_not_own'));
    const [before] = await db.sql<Array<{ n: number }>>`select count(*)::int as n from participants where phone in ('+48609999999', '+48608888888')`;
    expect(before?.n).toBe(0);

    piotr.shareContact('48605555555');
    await tg.nextMatching(piotr.id, (m) => m.text === t('bot:reg.name'));
    expect(await participantOf(piotr.id)).toMatchObject({ phone: '+48605555555', phoneVerified: true });
  });
});
