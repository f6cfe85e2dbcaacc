/**
 * The composition root with Telegram configured: `startPunkto` with TELEGRAM_BOT_TOKEN and
 * TELEGRAM_API_ROOT pointed at the fake, in polling and in webhook mode. Proves the wiring in
 * main.ts (bot → engine → sender → adapter, webhook route mounted and exempt from rate limits).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startPunkto, type Punkto } from '../../src/main.js';
import { createI18n } from '../../src/i18n/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { clearPrefix } from '../helpers/redis.js';
import { testLogger } from '../helpers/logger.js';
import { startFakeTelegram, type FakeTelegram, type SentMessage } from '../fakes/telegram-server.js';

// main.ts uses the default BullMQ prefix; a Redis database of its own keeps it from meeting the
// queues of other test files.
const REDIS_URL = 'redis://127.0.0.1:6379/13';

let db: TestDatabase;
let tg: FakeTelegram;
let dataDir: string;
const t = createI18n({ defaultLocale: 'pl' }).t('pl');
const buttons = (m: SentMessage): string[] =>
  ((m.reply_markup?.inline_keyboard as Array<Array<{ text: string }>> | undefined) ?? []).flat().map((b) => b.text);

beforeAll(async () => {
  db = await createTestDatabase();
  tg = await startFakeTelegram();
  dataDir = await mkdtemp(path.join(tmpdir(), 'punkto-tg-'));
});

afterAll(async () => {
  await tg?.close();
  await db?.drop();
  await clearPrefix('punkto', REDIS_URL);
  await rm(dataDir, { recursive: true, force: true });
});

const start = (extra: Record<string, string> = {}): Promise<Punkto> =>
  startPunkto(
    loadConfig({
      DATABASE_URL: db.url,
      REDIS_URL,
      DATA_DIR: dataDir,
      PORT: '0',
      ADMIN_TOKEN: 'test-admin-token-0123456789',
      TELEGRAM_BOT_TOKEN: tg.token,
      TELEGRAM_API_ROOT: tg.apiRoot,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      ...extra,
    }),
    testLogger(),
  );

describe('Punkto with Telegram', () => {
  it('answers on Telegram through long polling', { timeout: 60_000 }, async () => {
    const punkto = await start();
    try {
      expect(tg.commands.get('default:be')?.length).toBeGreaterThan(0);
      const user = tg.user(48_200_001, { languageCode: 'pl' });
      user.command('start');
      const consent = await tg.nextMatching(user.id, (m) => buttons(m).includes(t('bot:reg.consent_accept')));
      user.press(consent, t('bot:reg.consent_accept'));
      await tg.nextMatching(user.id, (m) => m.text === t('bot:reg.phone'));
    } finally {
      await punkto.stop();
    }
  });

  it('takes updates on the webhook path in webhook mode, only with the secret', { timeout: 60_000 }, async () => {
    const punkto = await start({
      TELEGRAM_WEBHOOK_URL: 'https://punkto.example/hooks/telegram',
      TELEGRAM_WEBHOOK_SECRET: 'main-secret_1-0123456789abcdef',
    });
    try {
      await expect.poll(() => tg.webhook?.url, { timeout: 10_000 }).toBe('https://punkto.example/hooks/telegram');
      const user = tg.user(48_200_002, { languageCode: 'pl' });
      const update = user.command('start');
      const post = (secret: string) =>
        fetch(`${punkto.url}/hooks/telegram`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret },
          body: JSON.stringify(update),
        });
      expect((await post('not-it')).status).toBe(401);
      expect((await post('main-secret_1-0123456789abcdef')).status).toBe(200);
      await tg.nextMatching(user.id, (m) => buttons(m).includes(t('bot:reg.consent_accept')));
    } finally {
      await punkto.stop();
    }
    // Polling again afterwards deletes the webhook first, or Telegram would answer 409.
    const polling = await start();
    try {
      expect(tg.webhook).toBeUndefined();
    } finally {
      await polling.stop();
    }
  });
});
