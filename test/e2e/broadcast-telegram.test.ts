/**
 * Broadcasts end to end through the fake Telegram Bot API, which enforces a messages-per-second
 * ceiling (429 above it) and answers 403 for chats that blocked the bot. Real Postgres, Redis,
 * BullMQ, Telegram adapter; only Telegram itself is fake.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { clearPrefix, testQueuePrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { testLogger } from '../helpers/logger.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-server.js';
import { createTelegramAdapter } from '../../src/channels/telegram/adapter.js';
import { createChannelRegistry } from '../../src/channels/channel.js';
import { createI18n, formatDate } from '../../src/i18n/index.js';
import { createRedisConnections, type RedisConnections } from '../../src/jobs/redis.js';
import { createChannelGate } from '../../src/jobs/rate-gate.js';
import { startBroadcastWorker, type BroadcastWorker } from '../../src/jobs/broadcasts/worker.js';
import { createBroadcasts, type BroadcastsService } from '../../src/services/broadcasts/index.js';
import { createEnqueueOutbound } from '../../src/services/outbox/index.js';
import { seedTelegramParticipants, waitFor } from './broadcast-seed.js';

const RATE = 40;
const logger = testLogger();
const i18n = createI18n({ defaultLocale: 'pl' });

let db: TestDatabase;
let tg: FakeTelegram;
let redis: RedisConnections;
let prefix: string;
let worker: BroadcastWorker;
let broadcasts: BroadcastsService;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createRedisConnections(TEST_REDIS_URL);
  broadcasts = createBroadcasts({
    sql: db.sql,
    enqueueOutbound: createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: 'pl' }),
    defaultLocale: 'pl',
    kick: (id) => worker.kick(id),
  });
});

beforeEach(async () => {
  prefix = testQueuePrefix();
  tg = await startFakeTelegram();
  tg.limitRate(RATE, 1);
  const adapter = createTelegramAdapter({ token: tg.token, apiRoot: tg.apiRoot, logger });
  worker = await startBroadcastWorker({
    sql: db.sql,
    connection: redis.bullmq,
    prefix,
    channels: createChannelRegistry([adapter]),
    gate: createChannelGate({ redis: redis.client, prefix, rates: { telegram: { perSecond: RATE } } }),
    i18n,
    logger,
    automaticEnabled: false,
    tickEveryMs: 300,
    fanoutBatchSize: 37, // several batches even for small audiences
  });
});

afterEach(async () => {
  await worker.close();
  await tg.close();
  await clearPrefix(prefix);
});

afterAll(async () => {
  await redis.close();
  await db.drop();
});

const done = (id: string) =>
  waitFor(`broadcast ${id} done`, async () => {
    const v = await broadcasts.get(db.sql, id);
    return v?.status === 'done' ? v : undefined;
  });

describe('broadcast through the fake Telegram server', () => {
  it('gives every recipient exactly one message in their language, within the rate limit; blocked are unreachable, muted skipped', async () => {
    const seeded = await seedTelegramParticipants(db.sql, 150, { base: 500_000 });
    const chats = [...seeded.chats.entries()];
    const blocked = chats.slice(0, 5).map(([chat]) => chat);
    const muted = chats.slice(5, 10);
    for (const chat of blocked) tg.block(chat);
    await db.sql`update participants set muted = true where id = any(${muted.map(([, p]) => p.participantId)}::uuid[])`;

    const texts = { pl: 'Nowa kampania rusza jutro!', pt: 'A nova campanha começa amanhã!' };
    const b = await broadcasts.create(db.sql, { message: texts, audience: { participantIds: chats.map(([, p]) => p.participantId) } });
    await broadcasts.kick(b.id);
    const final = await done(b.id);

    expect(final).toMatchObject({ total: 150, sent: 140, unreachable: 5, optedOut: 5, failed: 0, queued: 0, sending: 0 });
    for (const [chat, p] of chats) {
      const got = tg.messagesTo(chat).map((m) => m.text);
      if (blocked.includes(chat) || muted.some(([c]) => c === chat)) {
        expect(got, chat).toEqual([]);
      } else {
        // Belarusian is missing: those recipients read the program's default language (pl).
        expect(got, chat).toEqual([p.locale === 'pt-PT' ? texts.pt : texts.pl]);
      }
    }
    expect(tg.calls.filter((c) => c.status === 429)).toHaveLength(0);
    const unreachable = await db.sql`select 1 from channel_identities where chat_id = any(${blocked}::text[]) and unreachable_at is not null`;
    expect(unreachable).toHaveLength(5);

    // The fake's own ceiling was never crossed, and the rate was used: 140 sends at 40/s take ~3.5 s.
    const sends = tg.calls.filter((c) => c.method === 'sendMessage' && c.status === 200).map((c) => c.at).sort((x, y) => x - y);
    const seconds = (sends.at(-1)! - sends[0]!) / 1000;
    expect(sends.length / seconds).toBeGreaterThan(RATE * 0.7);
  });

  it('honours retry_after on 429 and retries server errors, still one message each', async () => {
    const seeded = await seedTelegramParticipants(db.sql, 30, { base: 600_000 });
    const chats = [...seeded.chats.keys()];
    tg.failNext(2, { code: 429, retryAfter: 1 });
    const b = await broadcasts.create(db.sql, {
      message: { pl: 'Cześć', pt: 'Olá', be: 'Прывітанне' },
      audience: { participantIds: [...seeded.chats.values()].map((p) => p.participantId) },
    });
    await broadcasts.kick(b.id);
    await waitFor('first 429', async () => tg.calls.some((c) => c.status === 429));
    tg.failNext(2, { code: 500 });
    const final = await done(b.id);
    expect(final).toMatchObject({ total: 30, sent: 30, failed: 0 });
    for (const chat of chats) expect(tg.messagesTo(chat), chat).toHaveLength(1);
    // After the 429 nothing was sent for retry_after (1 s).
    const first429 = tg.calls.find((c) => c.status === 429)!;
    const next = tg.calls.find((c) => c.at > first429.at && c.status === 200 && c.method === 'sendMessage');
    expect(next!.at - first429.at).toBeGreaterThanOrEqual(900);
  });

  it('announces a campaign start by itself, once, with the campaign name in each language', async () => {
    const seeded = await seedTelegramParticipants(db.sql, 6, { base: 750_000, role: 'installer' });
    const [c] = await db.sql<{ id: string }[]>`
      insert into campaigns (program_id, name, names, status, starts_at, ends_at, audience_roles)
      values (${seeded.programId}, 'Zimowe rabaty', ${db.sql.json({ pt: 'Descontos de inverno', be: 'Зімовыя зніжкі' })}, 'active',
              now() - interval '1 minute', now() + interval '10 days', '{installer}')
      returning id`;
    await worker.announce();
    await worker.announce();
    const b = await waitFor('announcement', async () => {
      const [row] = await db.sql<{ id: string }[]>`select id from broadcasts where source_key = ${`campaign:${c!.id}:start`}`;
      return row;
    });
    await done(b.id);
    const [endsAt] = await db.sql<{ endsAt: Date }[]>`select ends_at from campaigns where id = ${c!.id}`;
    for (const [chat, p] of seeded.chats) {
      const got = tg.messagesTo(chat).map((m) => m.text);
      expect(got, chat).toHaveLength(1);
      const name = { pl: 'Zimowe rabaty', 'pt-PT': 'Descontos de inverno', be: 'Зімовыя зніжкі' }[p.locale];
      expect(got[0]).toContain(`${name}`);
      expect(got[0]).toMatch({ pl: /^🎉 Rusza akcja/, 'pt-PT': /^🎉 Começou a campanha/, be: /^🎉 Пачалася акцыя/ }[p.locale]);
      // The last day, as a date of the program's time zone.
      expect(got[0]).toContain(formatDate(p.locale, new Date(endsAt!.endsAt.getTime() - 1), 'Europe/Warsaw'));
    }
  });

  it('lets a chat in the middle of a conversation get its replies first (about one message per second per chat)', async () => {
    const seeded = await seedTelegramParticipants(db.sql, 5, { base: 760_000 });
    const [busyChat, busy] = [...seeded.chats.entries()][0]!;
    await db.sql`insert into outbox (program_id, channel, external_id, chat_id, participant_id, kind, message, status, sent_at)
                 values (${seeded.programId}, 'telegram', ${busyChat}, ${busyChat}, ${busy.participantId}, 'reply',
                         ${db.sql.json({ text: 'Twoje saldo: 10 punktów' })}, 'sent', now())`;
    const b = await broadcasts.create(db.sql, {
      message: { pl: 'Hej', pt: 'Olá', be: 'Прывітанне' },
      audience: { participantIds: [...seeded.chats.values()].map((p) => p.participantId) },
    });
    await broadcasts.kick(b.id);
    await done(b.id);
    const others = [...seeded.chats.keys()].filter((c) => c !== busyChat).map((c) => tg.messagesTo(c)[0]!.at);
    const toBusy = tg.messagesTo(busyChat);
    expect(toBusy).toHaveLength(1);
    expect(toBusy[0]!.at - Math.min(...others)).toBeGreaterThanOrEqual(1000);
  });

  it('pause stops sending, resume finishes it, cancel leaves the rest unsent', async () => {
    const seeded = await seedTelegramParticipants(db.sql, 120, { base: 700_000 });
    const ids = [...seeded.chats.values()].map((p) => p.participantId);
    const b = await broadcasts.create(db.sql, { message: { pl: 'Pauza?' }, audience: { participantIds: ids } });
    await broadcasts.kick(b.id);
    await waitFor('some sent', async () => tg.sent.length >= 20);
    expect((await broadcasts.pause(b.id)).status).toBe('ok');
    await new Promise((r) => setTimeout(r, 400)); // sends in flight settle
    const atPause = tg.sent.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(tg.sent.length).toBe(atPause);
    expect(atPause).toBeLessThan(120);

    expect((await broadcasts.resume(b.id)).status).toBe('ok');
    await waitFor('more sent', async () => tg.sent.length >= atPause + 20);
    const cancelled = await broadcasts.cancel(b.id);
    expect(cancelled.status).toBe('ok');
    await new Promise((r) => setTimeout(r, 400));
    const v = (await broadcasts.get(db.sql, b.id))!;
    expect(v.status).toBe('cancelled');
    expect(v.sent + v.cancelled).toBe(120);
    expect(v.cancelled).toBeGreaterThan(0);
    expect(tg.sent.length).toBe(v.sent);
    expect(new Set(tg.sent.map((m) => m.chat_id)).size).toBe(tg.sent.length);
  });
});
