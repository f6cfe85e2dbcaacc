/**
 * Receipts end to end on Telegram: the real grammY bot polling the fake Bot API, the real engine
 * with the receipts flow, the receipts worker on BullMQ, the outbox sender, the ledger and a fresh
 * database. A participant sends a photo and is told at once; the worker reads it; either it is
 * auto-approved, or moderators get a card with the photo and decide with its buttons; the
 * participant hears the outcome in their language and the balance moves once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { clearPrefix, testQueuePrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { testLogger } from '../helpers/logger.js';
import { startFakeTelegram, type FakeTelegram, type SentMessage } from '../fakes/telegram-server.js';
import { createChannelRegistry } from '../../src/channels/channel.js';
import { createTelegramAdapter } from '../../src/channels/telegram/adapter.js';
import { createTelegramBot, type TelegramBot } from '../../src/channels/telegram/bot.js';
import { createDialogEngine } from '../../src/dialog/engine.js';
import { createFlows } from '../../src/dialog/flow.js';
import { createReceiptsFlow } from '../../src/dialog/flows/receipts/index.js';
import { createI18n, type Locale } from '../../src/i18n/index.js';
import { createRedisConnections, type RedisConnections } from '../../src/jobs/redis.js';
import { createOutboxSender, DEFAULT_RATES, type OutboxSender } from '../../src/jobs/outbox/sender.js';
import { createReceiptQueue, startReceiptWorker, type ReceiptWorker } from '../../src/jobs/workers/receipts.js';
import { createLedger, type Ledger } from '../../src/services/ledger/index.js';
import { createParticipants } from '../../src/services/participants/index.js';
import { createEnqueueOutbound } from '../../src/services/outbox/index.js';
import { createDirectoryMediaStore, createQrDecoder, createReceipts, type ReceiptsService } from '../../src/services/receipts/index.js';
import { PT_QR, photoWithoutQr, receiptPhoto } from '../fixtures/receipts/images.js';

let db: TestDatabase;
let tg: FakeTelegram;
let redis: RedisConnections;
let sender: OutboxSender;
let bot: TelegramBot;
let worker: ReceiptWorker;
let queue: ReturnType<typeof createReceiptQueue>;
let receipts: ReceiptsService;
let ledger: Ledger;
let mediaDir: string;
let programId: string;
let campaignId: string;
const prefix = testQueuePrefix();
const i18n = createI18n({ defaultLocale: 'pl' });

/** A PT invoice QR issued today (the campaign runs around the real clock here). */
const ptDoc = (n: number, total = '12.30') =>
  PT_QR.replace('G:FS 2026/88', `G:FS 2026/${n}`)
    .replace('H:CSDF7T5H-88', `H:CSDF7T5H-${n}`)
    .replace('O:12.30', `O:${total}`)
    .replace('F:20260918', `F:${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`);
const buttons = (m: SentMessage): Array<{ text: string; callback_data?: string }> =>
  ((m.reply_markup?.inline_keyboard as Array<Array<{ text: string; callback_data?: string }>> | undefined) ?? []).flat();

beforeAll(async () => {
  db = await createTestDatabase({ max: 20 });
  tg = await startFakeTelegram();
  mediaDir = await mkdtemp(path.join(tmpdir(), 'punkto-e2e-media-'));
  const logger = testLogger();
  const { sql } = db;
  programId = (await sql<Array<{ id: string }>>`select id from programs where slug = 'default'`)[0]!.id;
  redis = createRedisConnections(TEST_REDIS_URL);
  ledger = createLedger({ sql });
  const participants = createParticipants({ sql, defaultLocale: 'pl' });
  const enqueueOutbound = createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: 'pl' });
  const media = createDirectoryMediaStore(mediaDir);
  receipts = createReceipts({ sql, ledger, participants, enqueueOutbound, media, decoder: createQrDecoder(), logger });
  queue = createReceiptQueue({ connection: redis.bullmq, prefix });
  worker = startReceiptWorker({ connection: redis.bullmq, prefix, receipts, logger, sweepIntervalMs: 1000, staleAfterMs: 5000 });
  const adapter = createTelegramAdapter({ token: tg.token, apiRoot: tg.apiRoot, logger, loadMedia: async (key) => (await media.get(key)) ?? undefined });
  sender = await createOutboxSender({ sql, connection: redis.bullmq, prefix, channels: createChannelRegistry([adapter]), rates: DEFAULT_RATES(30), logger, sweepIntervalMs: 300 });
  const engine = createDialogEngine({
    sql,
    i18n,
    participants,
    enqueueOutbound,
    flows: createFlows([createReceiptsFlow({ receipts, jobs: queue })]),
    balances: ledger,
    logger,
    defaultLocale: 'pl',
    onCommitted: (chats) => {
      for (const chat of chats) void sender.poke(chat);
    },
  });
  bot = createTelegramBot({
    token: tg.token,
    apiRoot: tg.apiRoot,
    defaultLocale: 'pl',
    i18n,
    logger,
    receive: (inbound) => engine.receive(inbound),
    polling: { timeoutSeconds: 1, backoffMs: 100, maxBackoffMs: 500 },
  });
  await bot.start();

  const [c] = await sql<Array<{ id: string }>>`insert into campaigns (program_id, name, status, starts_at, ends_at)
    values (${programId}, 'Talões', 'active', now() - interval '30 days', now() + interval '30 days') returning id`;
  campaignId = c!.id;
}, 60_000);

afterAll(async () => {
  await bot?.stop();
  await worker?.close();
  await queue?.close();
  await sender?.close();
  await redis?.close();
  await tg?.close();
  await db?.drop();
  await clearPrefix(prefix);
  if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
});

/** A registered participant on Telegram (registration itself is covered by the Telegram tests). */
async function telegramParticipant(id: number, name: string, locale: Locale, role = 'consumer') {
  const [p] = await db.sql<Array<{ id: string }>>`
    insert into participants (program_id, role, locale, name, phone, phone_verified, consent_version, consent_at, registered_at)
    values (${programId}, ${role}, ${locale}, ${name}, ${`+48${id}`}, true, '1', now(), now()) returning id`;
  await db.sql`insert into channel_identities (program_id, channel, external_id, chat_id, participant_id)
    values (${programId}, 'telegram', ${String(id)}, ${String(id)}, ${p!.id})`;
  return { participantId: p!.id, user: tg.user(id, { firstName: name.split(' ')[0], languageCode: locale }) };
}

const balance = async (participantId: string) => (await ledger.balance(db.sql, programId, participantId)).available;

describe('receipts on Telegram', () => {
  it('photo → "received" at once → auto-approved → participant told → balance updated', { timeout: 60_000 }, async () => {
    await receipts.setRules(campaignId, { autoApprove: true, pointsPerUnit: 1, maxPointsPerReceipt: 500, minTotal: 5 });
    const kasia = await telegramParticipant(48_100_001, 'Kasia Nowak', 'pl');
    const t = i18n.t('pl');
    kasia.user.photo(await receiptPhoto(ptDoc(1), { rotate: 4, width: 800 }));
    await tg.nextMatching(kasia.user.id, (m) => m.text === t('receipts:ack'));
    const outcome = await tg.nextMatching(kasia.user.id, (m) => m.text.startsWith('✅'));
    expect(outcome.text).toBe('✅ Paragon zatwierdzony: +12 punktów.\nMasz teraz 12 punktów.');
    expect(await balance(kasia.participantId)).toBe(12);
  });

  it('moderators get the card with the photo; the first decision counts; the participant hears it in Portuguese', { timeout: 60_000 }, async () => {
    await receipts.setRules(campaignId, { autoApprove: false, pointsPerUnit: 2 });
    const rita = await telegramParticipant(35_100_010, 'Rita Moderadora', 'pt-PT', 'moderator');
    const marek = await telegramParticipant(48_100_011, 'Marek Moderator', 'pl', 'moderator');
    const joao = await telegramParticipant(35_100_012, 'João Silva', 'pt-PT');
    const pt = i18n.t('pt-PT');
    const pl = i18n.t('pl');

    joao.user.photo(await receiptPhoto(ptDoc(2, '30.00'), { seed: 4 }), 'Compra de sábado');
    await tg.nextMatching(joao.user.id, (m) => m.text === pt('receipts:ack'));

    const card = await tg.nextMatching(rita.user.id, (m) => m.method === 'sendPhoto');
    expect(card.photo).toBe('<upload>');
    expect(card.text).toContain('João Silva');
    expect(card.text).toContain('509442013');
    expect(card.text).toContain('Compra de sábado');
    expect(buttons(card).map((b) => b.text)).toEqual([pt('receipts:card.approve', { count: 60 }), pt('receipts:card.reject')]);
    const marekCard = await tg.nextMatching(marek.user.id, (m) => m.method === 'sendPhoto');
    expect(buttons(marekCard)[0]!.text).toBe(pl('receipts:card.approve', { count: 60 }));

    // Rita approves; Marek, a moment later, tries to reject the same receipt.
    rita.user.press(card, pt('receipts:card.approve', { count: 60 }));
    await tg.nextMatching(rita.user.id, (m) => m.text === pt('receipts:mod.approved', { points: 60, name: 'João Silva' }));
    const told = await tg.nextMatching(joao.user.id, (m) => m.text.startsWith('✅'));
    expect(told.text).toBe('✅ Talão aprovado: +60 pontos.\nTem agora 60 pontos.');

    marek.user.press(marekCard, pl('receipts:card.reject'));
    const reasons = await tg.nextMatching(marek.user.id, (m) => m.text === pl('receipts:mod.choose_reason'));
    marek.user.press(reasons, pl('receipts:reason.duplicate'));
    await tg.nextMatching(marek.user.id, (m) => m.text === pl('receipts:mod.already_approved'));
    // Pressing approve again (a double tap) pays nothing more.
    rita.user.press(card, pt('receipts:card.approve', { count: 60 }));
    await tg.nextMatching(rita.user.id, (m) => m.text === pt('receipts:mod.already_approved'));
    expect(await balance(joao.participantId)).toBe(60);
    expect((await tg.drain(joao.user.id, 800)).filter((m) => m.text.startsWith('✅') || m.text.startsWith('❌'))).toEqual([]);
  });

  it('a moderator rejects with a reason from the list; the participant is told why in Belarusian', { timeout: 60_000 }, async () => {
    const rita = await telegramParticipant(35_100_020, 'Rita Dois', 'pt-PT', 'moderator');
    const ales = await telegramParticipant(37_500_021, 'Алесь', 'be');
    const pt = i18n.t('pt-PT');
    ales.user.photo(await receiptPhoto(ptDoc(3), { seed: 6 }));
    await tg.nextMatching(ales.user.id, (m) => m.text === i18n.t('be')('receipts:ack'));
    const card = await tg.nextMatching(rita.user.id, (m) => m.method === 'sendPhoto' && m.text.includes('Алесь'));
    rita.user.press(card, pt('receipts:card.reject'));
    const reasons = await tg.nextMatching(rita.user.id, (m) => m.text === pt('receipts:mod.choose_reason'));
    rita.user.press(reasons, pt('receipts:reason.shop_not_eligible'));
    await tg.nextMatching(rita.user.id, (m) => m.text === pt('receipts:mod.rejected', { reason: pt('receipts:reason.shop_not_eligible') }));
    const told = await tg.nextMatching(ales.user.id, (m) => m.text.startsWith('❌'));
    expect(told.text).toBe('❌ На жаль, мы не можам залічыць гэты чэк. Вы можаце даслаць фота іншага чэка або напісаць арганізатару праграмы.\nПрычына: крама не ўдзельнічае ў акцыі');
    expect(await balance(ales.participantId)).toBe(0);
  });

  it('from the menu: asks for the photo; a moderator types the points for a receipt without a code', { timeout: 60_000 }, async () => {
    const mod = await telegramParticipant(48_100_040, 'Ewa Moderatorka', 'pl', 'moderator');
    const jan = await telegramParticipant(48_100_041, 'Jan Kowalski', 'pl');
    const t = i18n.t('pl');
    jan.user.command('menu');
    const menu = await tg.nextMatching(jan.user.id, (m) => buttons(m).some((b) => b.text === t('receipts:menu.send')));
    jan.user.press(menu, t('receipts:menu.send'));
    await tg.nextMatching(jan.user.id, (m) => m.text === t('receipts:ask_photo'));
    jan.user.photo(await photoWithoutQr(12));
    await tg.nextMatching(jan.user.id, (m) => m.text === t('receipts:ack'));

    const card = await tg.nextMatching(mod.user.id, (m) => m.method === 'sendPhoto' && m.text.includes('Jan Kowalski'));
    expect(card.text).toContain(t('receipts:flag.no_qr'));
    mod.user.press(card, t('receipts:card.approve_points'));
    await tg.nextMatching(mod.user.id, (m) => m.text === t('receipts:mod.ask_points'));
    // Not a number, then a number that could also look like a code to another module.
    mod.user.text('dwadzieścia');
    await tg.nextMatching(mod.user.id, (m) => m.text === t('receipts:mod.bad_points'));
    mod.user.text('25');
    await tg.nextMatching(mod.user.id, (m) => m.text === t('receipts:mod.approved', { points: 25, name: 'Jan Kowalski' }));
    const told = await tg.nextMatching(jan.user.id, (m) => m.text.startsWith('✅'));
    expect(told.text).toBe('✅ Paragon zatwierdzony: +25 punktów.\nMasz teraz 25 punktów.');
    expect(await balance(jan.participantId)).toBe(25);
  });

  it('answers a file that is not a photo with a clear message and stores nothing', { timeout: 30_000 }, async () => {
    const ola = await telegramParticipant(48_100_030, 'Ola', 'pl');
    ola.user.photo(Buffer.from('this is not an image at all, just text'));
    await tg.nextMatching(ola.user.id, (m) => m.text === i18n.t('pl')('receipts:refused.not_an_image'));
    expect(await db.sql`select 1 from receipts where participant_id = ${ola.participantId}`).toHaveLength(0);
  });
});
