/**
 * The grammY bot and the adapter against the fake Bot API server, with a recording `receive` in
 * place of the dialog engine (the end-to-end tests in test/e2e run the real engine).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import type { Inbound } from '../../../../src/dialog/types.js';
import { createI18n } from '../../../../src/i18n/index.js';
import { createTelegramAdapter } from '../../../../src/channels/telegram/adapter.js';
import { createTelegramChannel } from '../../../../src/channels/telegram/index.js';
import { loadConfig } from '../../../../src/config.js';
import { createTelegramBot, type TelegramBot, type TelegramBotDeps } from '../../../../src/channels/telegram/bot.js';
import { telegramWebhookRoutes } from '../../../../src/channels/telegram/webhook.js';
import { startFakeTelegram, type FakeTelegram } from '../../../fakes/telegram-server.js';
import { testLogger } from '../../../helpers/logger.js';

const i18n = createI18n({ defaultLocale: 'pl' });
const logger = testLogger();
const address = (chatId: number) => ({ channel: 'telegram' as const, externalId: String(chatId), chatId: String(chatId) });

let tg: FakeTelegram;
beforeAll(async () => {
  tg = await startFakeTelegram();
});
afterAll(async () => {
  await tg.close();
});

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('telegram adapter', () => {
  const adapter = () => createTelegramAdapter({ token: tg.token, apiRoot: tg.apiRoot, logger });

  it('delivers a message with its buttons and reports the message id', async () => {
    const result = await adapter().send(address(501), { text: 'Cześć!', choices: [[{ label: 'Menu', value: 'menu:open' }]] });
    const sent = await tg.nextMessage(501);
    expect(result).toEqual({ status: 'sent', providerMessageId: String(sent.message_id) });
    expect(sent).toMatchObject({ text: 'Cześć!', reply_markup: { inline_keyboard: [[{ text: 'Menu', callback_data: 'menu:open' }]] } });
  });

  it('asks for paid broadcasts on broadcast sends only when the configured rate is above 30/s', async () => {
    const channel = (rate: number) =>
      createTelegramChannel({
        config: loadConfig({ TELEGRAM_BOT_TOKEN: tg.token, TELEGRAM_API_ROOT: tg.apiRoot, TELEGRAM_RATE_PER_SECOND: String(rate) }),
        i18n,
        logger,
      })!.adapter;
    const paidFlag = async (chat: number) => {
      const call = await tg.waitForCall('sendMessage', (c) => String(c.payload.chat_id) === String(chat));
      return call.payload.allow_paid_broadcast;
    };
    const fast = channel(1000);
    await fast.send(address(511), { text: 'Promo!' }, { kind: 'broadcast' });
    expect(await paidFlag(511)).toBe(true);
    await fast.send(address(512), { text: 'Reply' }, { kind: 'reply' });
    expect(await paidFlag(512)).toBeUndefined();
    await channel(30).send(address(513), { text: 'Promo!' }, { kind: 'broadcast' });
    expect(await paidFlag(513)).toBeUndefined();
  });

  it('reports a 429 with its retry_after at once instead of sleeping', async () => {
    tg.failNext(1, { code: 429, retryAfter: 30 });
    const started = Date.now();
    expect(await adapter().send(address(502), { text: 'x' })).toEqual({ status: 'rate_limited', retryAfterMs: 30_000 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(tg.messagesTo(502)).toHaveLength(0);
  });

  it('reports a blocked chat as unreachable and server trouble as retryable', async () => {
    tg.block(503);
    expect(await adapter().send(address(503), { text: 'x' })).toMatchObject({ status: 'unreachable' });
    tg.failNext(1, { code: 502, description: 'Bad Gateway' });
    expect(await adapter().send(address(504), { text: 'x' })).toMatchObject({ status: 'failed', retryable: true });
  });

  it('reports a server that does not answer as a retryable failure', async () => {
    const dead = createTelegramAdapter({ token: tg.token, apiRoot: 'http://127.0.0.1:9', logger });
    expect(await dead.send(address(505), { text: 'x' })).toMatchObject({ status: 'failed', retryable: true });
  });

  it('uploads media-store images and sends the text as caption', async () => {
    const withMedia = createTelegramAdapter({
      token: tg.token,
      apiRoot: tg.apiRoot,
      logger,
      loadMedia: async (key) => (key === 'receipt-1' ? Buffer.from('jpeg bytes') : undefined),
    });
    expect(await withMedia.send(address(506), { text: 'Twój paragon', image: { mediaKey: 'receipt-1' } })).toMatchObject({ status: 'sent' });
    expect(await tg.nextMessage(506)).toMatchObject({ method: 'sendPhoto', photo: '<upload>', text: 'Twój paragon' });
    // A picture that is gone does not swallow the words.
    await withMedia.send(address(506), { text: 'Bez zdjęcia', image: { mediaKey: 'gone' } });
    expect(await tg.nextMessage(506)).toMatchObject({ method: 'sendMessage', text: 'Bez zdjęcia' });
  });
});

describe('telegram bot (long polling)', () => {
  let bot: TelegramBot | undefined;
  afterEach(async () => {
    await bot?.stop();
    bot = undefined;
  });

  function startBot(receive: (inbound: Inbound) => Promise<unknown>, extra: Partial<TelegramBotDeps> = {}) {
    bot = createTelegramBot({
      token: tg.token,
      apiRoot: tg.apiRoot,
      defaultLocale: 'pl',
      i18n,
      logger,
      receive,
      polling: { timeoutSeconds: 1, backoffMs: 50, maxBackoffMs: 200 },
      ...extra,
    });
    return bot.start();
  }

  it('registers its commands in each language, in that language', async () => {
    const received: Inbound[] = [];
    await startBot(async (inbound) => received.push(inbound));
    expect(tg.commands.get('default:pt')?.map((c) => c.command)).toEqual(['start', 'menu', 'help', 'language', 'mute', 'unmute', 'mydata', 'delete']);
    expect(tg.commands.get('default:pl')?.find((c) => c.command === 'mute')?.description).toBe('Wyłącz ogłoszenia');
    expect(tg.commands.get('default:be')?.find((c) => c.command === 'unmute')?.description).toBe('Уключыць аб\'явы');
    expect(tg.commands.get('default:pl')?.map((c) => c.command)).not.toContain('broadcast');
    expect(tg.commands.get('default:pt')?.find((c) => c.command === 'help')?.description).toBe('Ajuda');
    expect(tg.commands.get('default:be')?.find((c) => c.command === 'menu')?.description).toBe('Галоўнае меню');
    expect(tg.commands.get('default:pl')?.find((c) => c.command === 'language')?.description).toBe('Zmień język');
    expect(tg.commands.get('default:')).toEqual(tg.commands.get('default:pl'));
  });

  it('shows /broadcast in managers’ own chats only, in their language, and takes it back when they stop being managers', async () => {
    let managers = [
      { chatId: '7001', locale: 'pt-PT' as const },
      { chatId: '7002', locale: 'be' as const },
    ];
    await startBot(async () => undefined, { managerChats: async () => managers, commandsRefreshMs: 100 });
    expect(tg.commands.get('chat=7001:')?.map((c) => c.command)).toEqual(['start', 'menu', 'help', 'language', 'mute', 'unmute', 'mydata', 'delete', 'broadcast']);
    expect(tg.commands.get('chat=7001:')?.at(-1)?.description).toBe('Enviar um anúncio');
    expect(tg.commands.get('chat=7002:')?.at(-1)?.description).toBe('Разаслаць аб\'яву');
    managers = [managers[0]!];
    await until(() => !tg.commands.has('chat=7002:'));
    expect(tg.commands.has('chat=7001:')).toBe(true);
  });

  it('hands every private update to the engine, in order, and answers button presses', async () => {
    const received: Inbound[] = [];
    await startBot(async (inbound) => received.push(inbound));
    const kasia = tg.user(601, { firstName: 'Kasia', languageCode: 'pl' });
    kasia.command('start', 'c_123');
    kasia.text('Kasia');
    const press = kasia.pressData('lang:pl');
    await until(() => received.length === 3);
    expect(received.map((r) => r.kind)).toEqual(['command', 'text', 'choice']);
    expect(received[0]).toMatchObject({ command: 'start', payload: 'c_123', from: { externalId: '601', localeHint: 'pl' } });
    await tg.waitForCall('answerCallbackQuery', (c) => c.payload.callback_query_id === press.callback_query?.id);
  });

  it('downloads a photo through TELEGRAM_API_ROOT when a flow asks for it', async () => {
    const received: Inbound[] = [];
    await startBot(async (inbound) => received.push(inbound));
    const bytes = Buffer.from('a receipt, believe me');
    tg.user(602).photo(bytes, 'paragon');
    await until(() => received.length === 1);
    const photo = received[0]!;
    if (photo.kind !== 'photo') throw new Error(`expected a photo, got ${photo.kind}`);
    expect(photo.caption).toBe('paragon');
    expect(await photo.media.load()).toEqual(bytes);
  });

  it('confirms an update only after the engine committed it, and keeps polling after failures', async () => {
    let failures = 2;
    const received: string[] = [];
    await startBot(async (inbound) => {
      if (inbound.kind === 'text' && inbound.text === 'first' && failures > 0) {
        failures -= 1;
        throw new Error('database went away');
      }
      received.push(inbound.kind === 'text' ? inbound.text : inbound.kind);
    });
    const user = tg.user(603);
    const first = user.text('first');
    user.text('second');
    tg.user(604).text('other chat');
    await until(() => received.includes('second') && received.includes('first'));
    // The same chat keeps its order even though "first" failed twice; the other chat did not wait.
    expect(received.indexOf('first')).toBeLessThan(received.indexOf('second'));
    expect(received).toContain('other chat');
    const offsets = tg.callsOf('getUpdates').map((c) => Number(c.payload.offset ?? 0));
    expect(offsets.filter((o) => o === first.update_id).length).toBeGreaterThanOrEqual(3);
    // Still polling: a later message gets through.
    user.text('third');
    await until(() => received.includes('third'));
  });

  it('skips an update that can never be handled, so one message cannot silence the bot', async () => {
    const received: Inbound[] = [];
    await startBot(
      async (inbound) => {
        if (inbound.kind === 'text' && inbound.text === 'poison') throw new Error('bug');
        received.push(inbound);
      },
      { polling: { timeoutSeconds: 1, backoffMs: 10, maxBackoffMs: 20, maxAttemptsPerUpdate: 3 } },
    );
    const user = tg.user(605);
    user.text('poison');
    user.text('after');
    await until(() => received.length === 1);
    expect(received[0]).toMatchObject({ text: 'after' });
  });

  it('does not hold up the service while Telegram is unreachable, and stops cleanly', async () => {
    await startBot(async () => undefined, {
      apiRoot: 'http://127.0.0.1:9',
      polling: { timeoutSeconds: 1, backoffMs: 50, maxBackoffMs: 100 },
    });
    await bot!.stop();
  });

  it('gives up at once on a token Telegram does not know', async () => {
    await startBot(async () => undefined, { token: '999:WRONG' });
    expect(tg.calls.filter((c) => c.method === 'getMe' && c.status === 401)).toHaveLength(1);
    expect(tg.calls.filter((c) => c.method === 'getUpdates' && c.status === 401)).toHaveLength(0);
  });

  it('stops promptly and leaves unhandled updates for the next start', async () => {
    await startBot(async () => undefined);
    const stopped = Date.now();
    await bot!.stop();
    expect(Date.now() - stopped).toBeLessThan(3000);
    const later = tg.user(606).text('while stopped');
    const received: Inbound[] = [];
    await startBot(async (inbound) => received.push(inbound));
    await until(() => received.length === 1);
    expect(received[0]?.messageId).toBe(`606:${later.message!.message_id}`);
  });
});

describe('telegram bot (webhook)', () => {
  it('checks the secret, hands the update to the engine and registers the webhook', async () => {
    const received: Inbound[] = [];
    const bot = createTelegramBot({
      token: tg.token,
      apiRoot: tg.apiRoot,
      webhook: { url: 'https://punkto.example/tg/hook', secret: 's3cret_value' },
      defaultLocale: 'pl',
      i18n,
      logger,
      receive: async (inbound) => received.push(inbound),
    });
    await bot.start();
    const app = Fastify();
    telegramWebhookRoutes({ bot: bot.bot, secret: 's3cret_value', path: '/tg/hook' })(app);
    const update = { update_id: 1, message: { message_id: 3, date: 1763870400, chat: { id: 701, type: 'private' }, from: { id: 701, is_bot: false, first_name: 'Ana' }, text: 'olá' } };

    const wrong = await app.inject({ method: 'POST', url: '/tg/hook', payload: update, headers: { 'x-telegram-bot-api-secret-token': 'nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(received).toHaveLength(0);

    const right = await app.inject({ method: 'POST', url: '/tg/hook', payload: update, headers: { 'x-telegram-bot-api-secret-token': 's3cret_value' } });
    expect(right.statusCode).toBe(200);
    expect(received).toMatchObject([{ kind: 'text', text: 'olá', messageId: '701:3' }]);
    await until(() => tg.webhook?.url === 'https://punkto.example/tg/hook');
    expect(tg.webhook?.secret).toBe('s3cret_value');
    await bot.stop();
    await app.close();
  });
});
