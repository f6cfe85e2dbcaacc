/**
 * WhatsApp end to end: the fake whatsapp-web.js client (test/fakes) drives the real adapter and
 * session, the real engine with the codes, receipts and rewards flows, the outbox sender on BullMQ,
 * the receipts worker, the ledger and a fresh database. What a participant in Portugal sees on
 * their phone: numbered menus, answers by number or by the option's text, all in Portuguese.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createChannelRegistry } from '../../src/channels/channel.js';
import { createWhatsAppClient, imageLoader, type WhatsAppClientRuntime } from '../../src/channels/whatsapp/index.js';
import { createDialogEngine, type DialogEngine } from '../../src/dialog/engine.js';
import { createFlows } from '../../src/dialog/flow.js';
import { createCodesFlow } from '../../src/dialog/flows/codes/index.js';
import { createReceiptsFlow } from '../../src/dialog/flows/receipts/index.js';
import { createRewardsFlow } from '../../src/dialog/flows/rewards/index.js';
import { createSalesFlow } from '../../src/dialog/flows/sales/index.js';
import { createSales } from '../../src/services/sales/index.js';
import type { Inbound, InboundBody } from '../../src/dialog/types.js';
import { createI18n } from '../../src/i18n/index.js';
import { createOutboxSender, type OutboxSender } from '../../src/jobs/outbox/sender.js';
import { createRedisConnections, type RedisConnections } from '../../src/jobs/redis.js';
import { createReceiptQueue, startReceiptWorker, type ReceiptWorker } from '../../src/jobs/workers/receipts.js';
import { createCampaigns } from '../../src/services/campaigns/index.js';
import { createCodeHasher, createCodes, type CodesService } from '../../src/services/codes/index.js';
import { createLedger, type Ledger } from '../../src/services/ledger/index.js';
import { createParticipants, type ParticipantsService } from '../../src/services/participants/index.js';
import { createEnqueueOutbound } from '../../src/services/outbox/index.js';
import { createDirectoryMediaStore, createQrDecoder, createReceipts, type ReceiptsService } from '../../src/services/receipts/index.js';
import { createRewards, createVoucherCipher, type RewardsService } from '../../src/services/rewards/index.js';
import { createFakeWhatsApp, waMessage } from '../fakes/whatsapp-client.js';
import { PT_QR, receiptPhoto } from '../fixtures/receipts/images.js';
import { recordingChannel } from '../helpers/dialog-harness.js';
import { voucher } from '../helpers/rewards.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { testLogger } from '../helpers/logger.js';
import { TEST_REDIS_URL, clearPrefix, testQueuePrefix } from '../helpers/redis.js';

const prefix = testQueuePrefix();
const i18n = createI18n({ defaultLocale: 'pl' });
const pt = i18n.t('pt-PT');

let db: TestDatabase;
let redis: RedisConnections;
let fake: ReturnType<typeof createFakeWhatsApp>;
let wa: WhatsAppClientRuntime;
let engine: DialogEngine;
let sender: OutboxSender;
let worker: ReceiptWorker;
let receiptQueue: ReturnType<typeof createReceiptQueue>;
let ledger: Ledger;
let participants: ParticipantsService;
let codes: CodesService;
let receipts: ReceiptsService;
let rewards: RewardsService;
let campaigns: ReturnType<typeof createCampaigns>;
let mediaDir: string;
let programId: string;
let campaignId: string;
const telegram = recordingChannel('telegram');

beforeAll(async () => {
  db = await createTestDatabase({ max: 20 });
  const { sql } = db;
  const logger = testLogger();
  mediaDir = await mkdtemp(path.join(tmpdir(), 'punkto-wa-'));
  redis = createRedisConnections(TEST_REDIS_URL);
  programId = (await sql<Array<{ id: string }>>`select id from programs where slug = 'default'`)[0]!.id;
  ledger = createLedger({ sql, logger });
  participants = createParticipants({ sql, defaultLocale: 'pl' });
  const enqueueOutbound = createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: 'pl' });
  campaigns = createCampaigns({ sql });
  codes = createCodes({ sql, ledger, campaigns, hash: createCodeHasher(randomBytes(32)) });
  const media = createDirectoryMediaStore(mediaDir);
  receipts = createReceipts({ sql, ledger, participants, enqueueOutbound, media, decoder: createQrDecoder(), logger });
  receiptQueue = createReceiptQueue({ connection: redis.bullmq, prefix });
  worker = startReceiptWorker({ connection: redis.bullmq, prefix, receipts, logger, sweepIntervalMs: 1000, staleAfterMs: 5000 });
  rewards = createRewards({ ledger, participants, enqueueOutbound, cipher: createVoucherCipher(randomBytes(32)), logger });

  fake = createFakeWhatsApp({ linked: true });
  wa = createWhatsAppClient({
    config: loadConfig({ DATA_DIR: mediaDir, WHATSAPP_MIN_DELAY_MS: '0', WHATSAPP_MAX_DELAY_MS: '0' }),
    sql,
    logger,
    i18n,
    factory: fake.factory,
    localeOf: async (to) => {
      const p = await participants.findByIdentity(db.sql, { channel: 'whatsapp', externalId: to.externalId });
      return p ? participants.locale(db.sql, p) : undefined;
    },
    loadImage: imageLoader((key) => media.get(key)),
    sessionOptions: { backoffInitialMs: 50 },
  });
  sender = await createOutboxSender({
    sql,
    connection: redis.bullmq,
    prefix,
    channels: createChannelRegistry([wa.adapter, telegram.adapter]),
    rates: { whatsapp: {}, telegram: {}, web: {} },
    logger,
    sweepIntervalMs: 300,
  });
  engine = createDialogEngine({
    sql,
    i18n,
    participants,
    enqueueOutbound,
    flows: createFlows([createCodesFlow({ codes }), createReceiptsFlow({ receipts, jobs: receiptQueue }), createRewardsFlow({ rewards }), createSalesFlow({ sales: createSales({ ledger, campaigns }) })]),
    balances: ledger,
    logger,
    defaultLocale: 'pl',
    onCommitted: (chats) => {
      for (const chat of chats) void sender.poke(chat);
    },
  });
  wa.start({ receive: (inbound) => engine.receive(inbound) });
  await wa.session.waitFor('ready');

  const [c] = await sql<Array<{ id: string }>>`insert into campaigns (program_id, name, status, starts_at, ends_at)
    values (${programId}, ${sql.json({ pl: 'Lato', pt: 'Verão', be: 'Лета' })}, 'active', now() - interval '30 days', now() + interval '30 days') returning id`;
  campaignId = c!.id;
}, 60_000);

afterAll(async () => {
  await wa?.stop();
  await worker?.close();
  await receiptQueue?.close();
  await sender?.close();
  await redis?.close();
  await db?.drop();
  await clearPrefix(prefix);
  if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
});

/** A person on WhatsApp: writes to the service and reads what arrives in their chat. */
function phone(digits: string) {
  const chatId = `${digits}@c.us`;
  let cursor = 0;
  const texts = () => fake.textsTo(chatId);
  return {
    chatId,
    say(body: string, init: { id?: string } = {}) {
      const m = waMessage({ from: chatId, body, ...init });
      fake.latest().receive(m);
      return m;
    },
    photo(data: Buffer, caption?: string) {
      fake.latest().receive(waMessage({ from: chatId, body: caption ?? '', media: { mimetype: 'image/jpeg', data } }));
    },
    /** The next message in the chat that satisfies `predicate` (earlier ones are passed over). */
    async next(what: string, predicate: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const all = texts();
        for (; cursor < all.length; cursor++) {
          if (predicate(all[cursor]!)) return all[cursor++]!;
        }
        if (Date.now() > deadline) throw new Error(`${what}: not received; the chat so far:\n${all.join('\n---\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    all: texts,
  };
}

/** The number in front of `label` in a numbered menu. */
function numberOf(menuText: string, label: string): string {
  const line = menuText.split('\n').find((l) => new RegExp(`^\\d+\\. ${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`).test(l));
  if (!line) throw new Error(`no "${label}" in the menu:\n${menuText}`);
  return line.split('.')[0]!;
}

async function registerInPortuguese(p: ReturnType<typeof phone>, name: string, roleKey = 'bot:role.consumer'): Promise<string> {
  p.say('Olá');
  const consent = await p.next('consent', (t) => t.includes(pt('bot:reg.consent_accept')));
  expect(consent).toMatch(/\n1\. .+\n2\. .+\n\n_Responda com um número de 1 a 2 ou com o nome da opção\._$/);
  // The option's text works as well as its number.
  p.say(pt('bot:reg.consent_accept').replace('✅ ', '').toLowerCase());
  // WhatsApp vouches for the number: no phone question.
  await p.next('name question', (t) => t === pt('bot:reg.name'));
  p.say(name);
  const role = await p.next('role question', (t) => t.startsWith(pt('bot:reg.role')));
  p.say(numberOf(role, pt(roleKey)));
  if (roleKey === 'bot:role.retail_staff') {
    await p.next('store question', (t) => t === pt('bot:reg.store'));
    p.say('Loja Centro, Lisboa');
  }
  await p.next('welcome', (t) => t.includes(pt('bot:reg.done', { name })));
  return p.next('main menu', (t) => t.includes(`. ${pt('bot:menu.balance')}`));
}

describe('a participant in Portugal on WhatsApp', () => {
  const ana = phone('351912345678');

  it('registers in Portuguese from the phone’s country, answering menus by number and by text', { timeout: 60_000 }, async () => {
    await registerInPortuguese(ana, 'Ana Sousa');
    const [row] = await db.sql<Array<{ name: string; phone: string; phoneVerified: boolean; role: string; registeredAt: Date | null }>>`
      select p.name, p.phone, p.phone_verified, p.role, p.registered_at from participants p
      join channel_identities i on i.participant_id = p.id where i.channel = 'whatsapp' and i.external_id = '351912345678'`;
    expect(row).toMatchObject({ name: 'Ana Sousa', phone: '+351912345678', phoneVerified: true, role: 'consumer', registeredAt: expect.any(Date) });
    // Nothing in the chat was in another language or carried channel markup.
    for (const text of ana.all()) expect(text).not.toMatch(/Odpowiedz|Адкажыце|reply_markup|\[object/);
  });

  it('ignores the same WhatsApp message delivered twice', { timeout: 30_000 }, async () => {
    const isHelp = (t: string) => t.startsWith(pt('bot:help', { program: 'Punkto' }).slice(0, 20));
    const before = ana.all().length;
    const m = ana.say('/help');
    await ana.next('help', isHelp);
    fake.latest().receive(m);
    ana.say('/help');
    await ana.next('second help', isHelp);
    await new Promise((r) => setTimeout(r, 500));
    // Two different messages, two answers; the re-delivered one got none.
    expect(ana.all().slice(before).filter(isHelp)).toHaveLength(2);
  });

  it('politely declines a voice note or a location', { timeout: 30_000 }, async () => {
    fake.latest().receive(waMessage({ from: ana.chatId, type: 'ptt' }));
    await ana.next('unsupported', (t) => t.startsWith(pt('bot:unsupported')));
  });

  it('redeems a code typed in the chat', { timeout: 30_000 }, async () => {
    const batch = await codes.createBatch(campaignId, { count: 2, points: 50 }, 'test');
    const code = batch.codes[0]!;
    ana.say(code.toLowerCase());
    const credited = await ana.next('credited', (t) => t.includes(code) && t.includes(pt('common:points', { count: 50 })));
    expect(credited).toContain('Verão');
    const p = await participants.findByIdentity(db.sql, { channel: 'whatsapp', externalId: '351912345678' });
    expect((await ledger.balance(db.sql, programId, p!.id)).available).toBe(50);
  });

  it('sends a receipt photo, is told at once, and is credited when it is read', { timeout: 60_000 }, async () => {
    await receipts.setRules(campaignId, { autoApprove: true, pointsPerUnit: 1, maxPointsPerReceipt: 500, minTotal: 5 });
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const qr = PT_QR.replace('G:FS 2026/88', 'G:FS 2026/301').replace('H:CSDF7T5H-88', 'H:CSDF7T5H-301').replace('F:20260918', `F:${today}`);
    ana.photo(await receiptPhoto(qr, { width: 800 }));
    await ana.next('receipt ack', (t) => t === pt('receipts:ack'));
    const outcome = await ana.next('receipt approved', (t) => t.startsWith('✅'));
    expect(outcome).toContain('12 pontos');
    const p = await participants.findByIdentity(db.sql, { channel: 'whatsapp', externalId: '351912345678' });
    expect((await ledger.balance(db.sql, programId, p!.id)).available).toBe(62);
  });

  it('orders an e-voucher from the rewards menu and gets the code in the chat', { timeout: 60_000 }, async () => {
    const reward = await rewards.create(db.sql, voucher({ name: { pt: 'Vale Continente 10 €' }, cost: 40 }), 'admin:t');
    await rewards.importVouchers(db.sql, reward.id, 'CONT-7Q2M-0001\n', 'admin:t');
    ana.say('/menu');
    const menu = await ana.next('menu', (t) => t.includes(`. ${pt('rewards:menu.rewards')}`));
    ana.say(numberOf(menu, pt('rewards:menu.rewards')));
    const list = await ana.next('rewards list', (t) => t.startsWith(pt('rewards:list.title')));
    ana.say(numberOf(list, '✅ Vale Continente 10 €'));
    const details = await ana.next('details', (t) => t.startsWith('🎁 Vale Continente 10 €'));
    ana.say(numberOf(details, pt('rewards:button.order_e_voucher')));
    const confirm = await ana.next('confirm', (t) => t.startsWith(pt('rewards:confirm.title')));
    ana.say(numberOf(confirm, pt('rewards:button.confirm')));
    const code = await ana.next('voucher code', (t) => t.includes('O seu código'));
    expect(code).toContain('CONT-7Q2M-0001');
    const p = await participants.findByIdentity(db.sql, { channel: 'whatsapp', externalId: '351912345678' });
    expect((await ledger.balance(db.sql, programId, p!.id)).available).toBe(22);
  });
});

describe('a participant first seen on Telegram, then on WhatsApp', () => {
  it('is one participant with one balance', { timeout: 60_000 }, async () => {
    const tgUser = { channel: 'telegram' as const, externalId: '48100777', chatId: '48100777', localeHint: 'pl' };
    let n = 0;
    const onTelegram = (body: InboundBody) =>
      engine.receive({ ...body, messageId: `tg-${++n}`, from: tgUser, receivedAt: new Date() } as Inbound);
    await onTelegram({ kind: 'command', command: 'start' });
    await onTelegram({ kind: 'choice', value: 'reg:consent_yes' });
    await onTelegram({ kind: 'contact', phone: '+48601777888', own: true });
    await onTelegram({ kind: 'text', text: 'Kasia Nowak' });
    await onTelegram({ kind: 'choice', value: 'reg:role:consumer' });
    const tgParticipant = await participants.findByIdentity(db.sql, { channel: 'telegram', externalId: '48100777' });
    expect(tgParticipant?.registeredAt).toBeTruthy();
    await ledger.earn(db.sql, { programId, participantId: tgParticipant!.id, amount: 70, source: 'bonus', key: 'test:wa-link', reason: { key: 'test' }, expiresAt: null });

    const kasia = phone('48601777888');
    kasia.say('Cześć');
    const pl = i18n.t('pl');
    await kasia.next('linked', (t) => t.includes(pl('bot:reg.linked_named', { name: 'Kasia Nowak' })) || t.includes(pl('bot:reg.linked')));
    const menu = await kasia.next('menu', (t) => t.includes(`. ${pl('bot:menu.balance')}`));
    kasia.say(numberOf(menu, pl('bot:menu.balance')));
    await kasia.next('balance', (t) => t.includes(pl('common:points', { count: 70 })));

    const waParticipant = await participants.findByIdentity(db.sql, { channel: 'whatsapp', externalId: '48601777888' });
    expect(waParticipant?.id).toBe(tgParticipant!.id);
    const [count] = await db.sql<Array<{ n: number }>>`select count(*)::int as n from participants where phone = '+48601777888'`;
    expect(count!.n).toBe(1);
  });
});

describe('WhatsApp drops the connection', () => {
  it('comes back with a new client and the conversation carries on', { timeout: 60_000 }, async () => {
    const rui = phone('351936000111');
    rui.say('Bom dia');
    const consent = await rui.next('consent', (t) => t.includes(pt('bot:reg.consent_accept')));
    const old = fake.latest();
    old.disconnect('CONFLICT');
    await wa.session.waitFor('ready');
    expect(fake.latest()).not.toBe(old);
    rui.say(numberOf(consent, pt('bot:reg.consent_accept')));
    await rui.next('name question after reconnect', (t) => t === pt('bot:reg.name'));
  });
});

describe('a staff member logging a sale on WhatsApp', () => {
  it('types "1" as the quantity and gets a sale of one unit, not the menu\'s first option', { timeout: 60_000 }, async () => {
    await campaigns.create(
      {
        name: { pl: 'Kotły', pt: 'Caldeiras', be: 'Катлы' },
        startsAt: new Date('2026-01-01T00:00:00Z'),
        endsAt: new Date('2030-01-01T00:00:00Z'),
        status: 'active',
        audienceRoles: ['retail_staff'],
        productRules: [{ sku: 'B24', name: { pt: 'Caldeira 24 kW' }, pointsPerUnit: 100 }],
      },
      'admin:test',
    );
    const joao = phone('351917000222');
    const menu = await registerInPortuguese(joao, 'João Vendas', 'bot:role.retail_staff');
    joao.say(numberOf(menu, pt('sales:menu_log')));
    const products = await joao.next('product list', (t) => t.startsWith(pt('sales:ask_product')));
    joao.say(numberOf(products, 'Caldeira 24 kW (B24)'));
    const quantity = await joao.next('quantity question', (t) => t.startsWith(pt('sales:ask_quantity', { product: 'Caldeira 24 kW', points: '100 pontos' })));
    // The way out is listed, unnumbered, with a hint to write the answer.
    expect(quantity).toContain(`• ${pt('sales:cancel')}`);
    expect(quantity).not.toMatch(/^1\. /m);
    expect(quantity).toContain(pt('whatsapp:menu_hint_free'));
    joao.say('1');
    await joao.next('invoice question', (t) => t.startsWith(pt('sales:ask_invoice')));
    joao.say('FT 2026/77');
    const photo = await joao.next('photo question', (t) => t.startsWith(pt('sales:ask_photo')));
    joao.say(numberOf(photo, pt('sales:skip_photo')));
    await joao.next('logged', (t) => t.startsWith('✅') && t.includes('Caldeira 24 kW × 1'));
    const [sale] = await db.sql<Array<{ quantity: number; status: string }>>`select quantity, status from sales where invoice = 'FT 2026/77'`;
    expect(sale).toEqual({ quantity: 1, status: 'confirmed' });

    // Written out, the option is still an option: the label cancels the next sale.
    joao.say('/menu');
    const again = await joao.next('menu', (t) => t.includes(`. ${pt('sales:menu_log')}`));
    joao.say(numberOf(again, pt('sales:menu_log')));
    const list = await joao.next('product list', (t) => t.startsWith(pt('sales:ask_product')));
    joao.say(numberOf(list, 'Caldeira 24 kW (B24)'));
    await joao.next('quantity question', (t) => t.startsWith(pt('sales:ask_quantity', { product: 'Caldeira 24 kW', points: '100 pontos' })));
    joao.say(pt('sales:cancel').toLowerCase());
    await joao.next('cancelled', (t) => t === pt('sales:cancelled'));
  });
});
