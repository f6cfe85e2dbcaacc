/**
 * What happens around the conversation on Telegram: duplicates, restarts, Telegram's 429 and 403,
 * blocking, and webhook mode. Real bot, engine, sender and database; fake Bot API.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Update } from 'grammy/types';
import { createRedisConnections } from '../../src/jobs/redis.js';
import { createAdminTokens } from '../../src/services/admin-tokens.js';
import { buildServer } from '../../src/http/server.js';
import { telegramWebhookRoutes } from '../../src/channels/telegram/webhook.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { clearPrefix, testQueuePrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { testLogger } from '../helpers/logger.js';
import { startFakeTelegram, type FakeTelegram, type FakeUser, type SentMessage } from '../fakes/telegram-server.js';
import { startTelegramStack, type TelegramStack } from './telegram-stack.js';

let db: TestDatabase;
let tg: FakeTelegram;
const prefix = testQueuePrefix();
const stacks: TelegramStack[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  tg = await startFakeTelegram();
});

afterEach(async () => {
  for (const s of stacks.splice(0)) await s.stop();
});

afterAll(async () => {
  await tg?.close();
  await db?.drop();
  await clearPrefix(prefix);
});

async function stack(options: Partial<Parameters<typeof startTelegramStack>[0]> = {}): Promise<TelegramStack> {
  const s = await startTelegramStack({ sql: db.sql, tg, prefix, ...options });
  stacks.push(s);
  return s;
}

const buttons = (m: SentMessage): string[] =>
  ((m.reply_markup?.inline_keyboard as Array<Array<{ text: string }>> | undefined) ?? []).flat().map((b) => b.text);
const asksForContact = (m: SentMessage) =>
  ((m.reply_markup?.keyboard as Array<Array<{ request_contact?: boolean }>> | undefined) ?? []).flat().some((b) => b.request_contact);

/** /start and accept the terms: the participant is then asked for their phone. */
async function upToPhone(s: TelegramStack, user: FakeUser): Promise<void> {
  const t = s.i18n.t('pl');
  user.command('start');
  const consent = await tg.nextMatching(user.id, (m) => buttons(m).includes(t('bot:reg.consent_accept')));
  user.press(consent, t('bot:reg.consent_accept'));
  await tg.nextMatching(user.id, asksForContact);
}

const sendCallsTo = (chatId: number) =>
  tg.calls.filter((c) => (c.method === 'sendMessage' || c.method === 'sendPhoto') && String(c.payload.chat_id) === String(chatId));

async function inboxCount(messageId: string): Promise<number> {
  const [row] = await db.sql<Array<{ n: number }>>`select count(*)::int as n from inbox where channel = 'telegram' and message_id = ${messageId}`;
  return row?.n ?? 0;
}

describe('Telegram delivery', () => {
  it('ignores an update delivered twice', { timeout: 60_000 }, async () => {
    const s = await stack();
    const t = s.i18n.t('pl');
    const ewa = tg.user(48_100_001, { firstName: 'Ewa', languageCode: 'pl' });
    await upToPhone(s, ewa);
    ewa.shareContact('48600100001');
    await tg.nextMatching(ewa.id, (m) => m.text === t('bot:reg.name'));
    const nameUpdate = ewa.text('Ewa Lis');
    const role = await tg.nextMatching(ewa.id, (m) => m.text === t('bot:reg.role'));

    // Telegram re-sends the very same update (same message) and a button press twice.
    tg.redeliver(nameUpdate);
    const press = ewa.press(role, t('bot:role.consumer'));
    await tg.nextMatching(ewa.id, (m) => m.text.includes(t('bot:reg.done', { name: 'Ewa Lis' })));
    tg.redeliver(press);
    await waitUntil(() => tg.pendingUpdates() === 0);
    const extra = await tg.drain(ewa.id, 1500);
    expect(extra.filter((m) => m.text === t('bot:reg.role') || m.text.includes(t('bot:reg.done', { name: 'Ewa Lis' })))).toEqual([]);
    expect(await inboxCount(`${ewa.id}:${nameUpdate.message!.message_id}`)).toBe(1);
    expect(await inboxCount(`cb:${press.callback_query!.id}`)).toBe(1);
  });

  it('resumes a registration after a restart, without repeating anything', { timeout: 60_000 }, async () => {
    const first = await stack();
    const t = first.i18n.t('pl');
    const jan = tg.user(48_100_002, { firstName: 'Jan', languageCode: 'pl' });
    await upToPhone(first, jan);
    // The process goes down; the participant answers meanwhile.
    await first.stop();
    stacks.splice(stacks.indexOf(first), 1);
    jan.shareContact('48600100002');

    await stack();
    const name = await tg.nextMessage(jan.id);
    expect(name.text).toBe(t('bot:reg.name'));
    jan.text('Jan Kowalski');
    await tg.nextMatching(jan.id, (m) => m.text === t('bot:reg.role'));
    const sentTexts = tg.messagesTo(jan.id).map((m) => m.text);
    expect(sentTexts.filter((x) => x === t('bot:reg.phone'))).toHaveLength(1);
    expect(sentTexts.filter((x) => x === t('bot:reg.name'))).toHaveLength(1);
  });

  it('waits out a 429 and then delivers the message once', { timeout: 60_000 }, async () => {
    const s = await stack();
    const t = s.i18n.t('pl');
    const ola = tg.user(48_100_003, { firstName: 'Ola', languageCode: 'pl' });
    tg.failNext(1, { code: 429, retryAfter: 1, chatId: ola.id });
    ola.command('start');
    const consent = await tg.nextMatching(ola.id, (m) => buttons(m).includes(t('bot:reg.consent_accept')));
    const calls = sendCallsTo(ola.id);
    expect(calls[0]?.status).toBe(429);
    const firstDelivered = calls.find((c) => c.status === 200)!;
    // Telegram said "retry after 1 s": nothing was sent to the chat before that second was over.
    expect(firstDelivered.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
    // A 429 is the platform pacing us, not a failed attempt that brings the message closer to
    // being given up on.
    const rows = await db.sql<Array<{ attempts: number; status: string }>>`
      select attempts, status from outbox where chat_id = ${String(ola.id)} order by id`;
    expect(rows[0]).toEqual({ attempts: 0, status: 'sent' });
    await tg.drain(ola.id, 1500);
    const texts = tg.messagesTo(ola.id).map((m) => m.text);
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts).toContain(consent.text);
  });

  it('marks a participant who blocked the bot unreachable and sends them nothing more', { timeout: 60_000 }, async () => {
    const s = await stack();
    const tomek = tg.user(48_100_004, { firstName: 'Tomek', languageCode: 'pl' });
    tg.block(tomek.id);
    tomek.command('start');
    await waitUntil(async () => (await identity(tomek.id))?.unreachableAt != null);
    await waitUntil(async () => (await undelivered(tomek.id)) === 0);
    const attempts = sendCallsTo(tomek.id).length;
    expect(attempts).toBe(1);
    expect(tg.messagesTo(tomek.id)).toHaveLength(0);

    // A later personal notice is not even tried.
    const result = await s.enqueueOutbound(db.sql, {
      address: { channel: 'telegram', externalId: String(tomek.id), chatId: String(tomek.id) },
      kind: 'notice',
      message: { text: 'Twoje punkty czekają' },
    });
    expect(result.status).toBe('unreachable');
    await s.sender.poke({ channel: 'telegram', chatId: String(tomek.id) });
    await new Promise((r) => setTimeout(r, 1500));
    expect(sendCallsTo(tomek.id)).toHaveLength(attempts);
  });

  it('notes a block reported by Telegram before any send fails', { timeout: 60_000 }, async () => {
    const s = await stack();
    const t = s.i18n.t('pl');
    const ula = tg.user(48_100_005, { firstName: 'Ula', languageCode: 'pl' });
    ula.command('start');
    await tg.nextMatching(ula.id, (m) => buttons(m).includes(t('bot:reg.consent_accept')));
    expect((await identity(ula.id))?.unreachableAt).toBeNull();
    ula.blockBot();
    await waitUntil(async () => (await identity(ula.id))?.unreachableAt != null);
  });
});

describe('Telegram webhook mode', () => {
  it('takes updates only with the right secret, registers the webhook and answers through the sender', { timeout: 60_000 }, async () => {
    const secret = 'hook_secret-123';
    const s = await stack({ webhook: { url: 'https://punkto.example/telegram/hook', secret } });
    await waitUntil(() => tg.webhook?.url === 'https://punkto.example/telegram/hook');
    expect(tg.webhook?.secret).toBe(secret);

    const logger = testLogger();
    const redis = createRedisConnections(TEST_REDIS_URL);
    const app = await buildServer({
      logger,
      sql: db.sql,
      redis: redis.client,
      adminTokens: createAdminTokens({ sql: db.sql }),
      publicRoutes: [telegramWebhookRoutes({ bot: s.bot.bot, secret, path: '/telegram/hook' })],
      rateLimitPerMinute: 2,
    });
    try {
      const t = s.i18n.t('pt-PT');
      const rui = tg.user(35_100_006, { firstName: 'Rui', languageCode: 'pt-PT' });
      const update: Update = rui.command('start');
      const post = (secretHeader: string, body: Update = update) =>
        app.inject({ method: 'POST', url: '/telegram/hook', payload: body, headers: { 'x-telegram-bot-api-secret-token': secretHeader } });

      expect((await post('wrong-secret')).statusCode).toBe(401);
      expect(await inboxCount(`${rui.id}:${update.message!.message_id}`)).toBe(0);

      // Several deliveries in a row: the route is not rate-limited, and the repeats change nothing.
      for (let i = 0; i < 4; i++) expect((await post(secret)).statusCode).toBe(200);
      const consent = await tg.nextMatching(rui.id, (m) => buttons(m).includes(t('bot:reg.consent_accept')));
      await tg.drain(rui.id, 1500);
      expect(tg.messagesTo(rui.id).filter((m) => m.text === consent.text)).toHaveLength(1);
      expect(await inboxCount(`${rui.id}:${update.message!.message_id}`)).toBe(1);
    } finally {
      await app.close();
      await redis.close();
    }
  });
});

async function identity(telegramUserId: number) {
  const [row] = await db.sql<Array<{ unreachableAt: Date | null }>>`
    select unreachable_at from channel_identities where channel = 'telegram' and external_id = ${String(telegramUserId)}`;
  return row;
}

async function undelivered(telegramUserId: number): Promise<number> {
  const [row] = await db.sql<Array<{ n: number }>>`
    select count(*)::int as n from outbox where channel = 'telegram' and chat_id = ${String(telegramUserId)} and status in ('pending', 'sending')`;
  return row?.n ?? 0;
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
