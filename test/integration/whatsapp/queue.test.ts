import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { QUEUES } from '../../../src/jobs/contracts.js';
import { createWhatsAppAdapter, type WhatsAppAdapter } from '../../../src/channels/whatsapp/adapter.js';
import { createMenuStore } from '../../../src/channels/whatsapp/menus.js';
import { createLidStore } from '../../../src/channels/whatsapp/lids.js';
import { createSentLedger } from '../../../src/channels/whatsapp/sent-ledger.js';
import { createPacer } from '../../../src/channels/whatsapp/pacing.js';
import { createWhatsAppSession, type WhatsAppSession } from '../../../src/channels/whatsapp/session.js';
import { createQueuedWhatsAppAdapter, startWhatsAppOutWorker } from '../../../src/jobs/whatsapp-out/queue.js';
import { createI18n } from '../../../src/i18n/index.js';
import type { ChannelAddress } from '../../../src/dialog/types.js';
import { createFakeWhatsApp } from '../../fakes/whatsapp-client.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { testLogger } from '../../helpers/logger.js';
import { TEST_REDIS_URL, clearPrefix, testQueuePrefix } from '../../helpers/redis.js';

const address = (digits: string): ChannelAddress => ({ channel: 'whatsapp', externalId: digits, chatId: `${digits}@c.us` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ROLE=whatsapp: outbound messages through the whatsapp-out queue', () => {
  let db: TestDatabase;
  let session: WhatsAppSession;
  let fake: ReturnType<typeof createFakeWhatsApp>;
  let adapter: WhatsAppAdapter;
  const connections: Redis[] = [];
  const prefixes: string[] = [];
  const closers: Array<() => Promise<void>> = [];
  const connection = () => {
    const r = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(r);
    return r;
  };
  const unreachable: string[] = [];

  /** A queue of its own: the handing-over adapter, and (when `withWorker`) the WhatsApp process's worker. */
  function lane(opts: { withWorker: boolean; confirmTimeoutMs?: number }) {
    const prefix = testQueuePrefix();
    prefixes.push(prefix);
    const producer = createQueuedWhatsAppAdapter({ connection, prefix, confirmTimeoutMs: opts.confirmTimeoutMs ?? 8_000, retryAfterMs: 500 });
    closers.push(() => producer.close());
    const start = () => {
      const w = startWhatsAppOutWorker({
        connection: connection(),
        prefix,
        adapter,
        logger: testLogger(),
        onUnreachable: async (to) => void unreachable.push(to.externalId),
      });
      closers.unshift(() => w.close());
      return w;
    };
    if (opts.withWorker) start();
    return { prefix, producer, startWorker: start };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    fake = createFakeWhatsApp({ linked: true, unknownNumbers: new Set(['48999999999@c.us']) });
    session = createWhatsAppSession({ factory: fake.factory, logger: testLogger(), onMessage: async () => undefined, options: { healthEveryMs: 0, restartEveryMs: 0, backoffInitialMs: 5, printQr: false } });
    adapter = createWhatsAppAdapter({
      session,
      factory: fake.factory,
      menus: createMenuStore(db.sql),
      sent: createSentLedger(db.sql),
      lids: createLidStore(db.sql),
      pacer: createPacer({ db: db.sql, options: { minDelayMs: 5, maxDelayMs: 15, dailyCap: 1000, broadcastShare: 0.8 } }),
      i18n: createI18n({ defaultLocale: 'pl' }),
      defaultLocale: 'pl',
      logger: testLogger(),
      notConnectedRetryMs: 300,
    });
    session.start();
    await session.waitFor('ready');
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await session.stop();
    for (const c of connections) c.disconnect();
    for (const p of prefixes) await clearPrefix(p);
    await db.drop();
  });

  it('answers "sent" once the WhatsApp process has sent it, in order, once per key even after Redis lost the job', async () => {
    const { prefix, producer } = lane({ withWorker: true });
    const to = address('351912345678');
    const results = [];
    for (let i = 1; i <= 5; i++) results.push(await producer.send(to, { text: `mensagem ${i}` }, { key: `outbox:${i}`, kind: 'reply' }));
    for (const r of results) expect(r).toMatchObject({ status: 'sent', providerMessageId: expect.stringContaining('351912345678') });
    expect(fake.textsTo(to.chatId)).toEqual(['mensagem 1', 'mensagem 2', 'mensagem 3', 'mensagem 4', 'mensagem 5']);
    // The same outbox row handed over again (its mark was lost), also after a Redis flush.
    expect(await producer.send(to, { text: 'mensagem 3' }, { key: 'outbox:3' })).toEqual(results[2]);
    await clearPrefix(prefix);
    expect(await producer.send(to, { text: 'mensagem 3' }, { key: 'outbox:3' })).toEqual(results[2]);
    expect(fake.textsTo(to.chatId)).toHaveLength(5);
  });

  it('never answers "sent" for a message the WhatsApp process did not send: a Redis flush loses nothing', async () => {
    const { prefix, producer, startWorker } = lane({ withWorker: false, confirmTimeoutMs: 1_500 });
    const to = address('48601000222');
    // The WhatsApp process is not consuming; Redis is flushed while the message waits in the queue.
    const handedOver = producer.send(to, { text: 'Punkty przyznane' }, { key: 'outbox:501', kind: 'notice' });
    await sleep(300);
    await clearPrefix(prefix);
    // The owner (outbox sender) keeps its row undelivered and will hand it over again.
    expect(await handedOver).toEqual({ status: 'rate_limited', retryAfterMs: 500 });
    expect(fake.textsTo(to.chatId)).toEqual([]);
    startWorker();
    expect(await producer.send(to, { text: 'Punkty przyznane' }, { key: 'outbox:501', kind: 'notice' })).toMatchObject({ status: 'sent' });
    expect(fake.textsTo(to.chatId)).toEqual(['Punkty przyznane']);
    // What was taken back is not sent later behind the owner's back.
    await sleep(500);
    expect(fake.textsTo(to.chatId)).toEqual(['Punkty przyznane']);
  });

  it('takes an unconfirmed job back, so a message the owner hands over again goes out once (no key needed)', async () => {
    const { producer, startWorker } = lane({ withWorker: false, confirmTimeoutMs: 800 });
    const to = address('48601000333');
    expect(await producer.send(to, { text: 'Nowa kampania' }, { kind: 'broadcast' })).toEqual({ status: 'rate_limited', retryAfterMs: 500 });
    startWorker();
    expect(await producer.send(to, { text: 'Nowa kampania' }, { kind: 'broadcast' })).toMatchObject({ status: 'sent' });
    await sleep(500);
    expect(fake.textsTo(to.chatId)).toEqual(['Nowa kampania']);
  });

  it('sends replies before broadcasts that were queued earlier', async () => {
    const { producer, startWorker } = lane({ withWorker: false, confirmTimeoutMs: 15_000 });
    const sends: Array<Promise<unknown>> = [];
    for (let i = 1; i <= 4; i++) {
      sends.push(producer.send(address(`4860200000${i}`), { text: `Promocja ${i}` }, { key: `broadcast:${i}`, kind: 'broadcast' }));
      await sleep(30);
    }
    sends.push(producer.send(address('48602000009'), { text: 'Twoje saldo: 50 pkt' }, { key: 'outbox:900', kind: 'reply' }));
    await sleep(100);
    const before = fake.world.sent.length;
    startWorker();
    await expect.poll(() => fake.world.sent.length - before, { timeout: 10_000 }).toBe(5);
    const order = fake.world.sent.slice(before).map((s) => s.content);
    expect(order).toEqual(['Twoje saldo: 50 pkt', 'Promocja 1', 'Promocja 2', 'Promocja 3', 'Promocja 4']);
    await Promise.all(sends);
  });

  it('gives a broadcast over its share of the daily cap back to its owner alone; replies keep going', async () => {
    const { producer } = lane({ withWorker: true, confirmTimeoutMs: 5_000 });
    const day = new Date().toISOString().slice(0, 10);
    await db.sql`insert into whatsapp_daily_sends (day, replies, broadcasts) values (${day}, 0, 800)
                 on conflict (day) do update set broadcasts = 800`;
    try {
      const to = address('48603000001');
      const broadcast = await producer.send(to, { text: 'Promocja dnia' }, { key: 'broadcast:77', kind: 'broadcast' });
      // The queue is not paused: a reply right after goes out at once.
      const reply = producer.send(to, { text: 'Twoje saldo: 80 pkt' }, { key: 'outbox:901', kind: 'reply' });
      await expect.poll(() => fake.textsTo(to.chatId), { timeout: 3_000 }).toEqual(['Twoje saldo: 80 pkt']);
      expect(await reply).toMatchObject({ status: 'sent' });
      // The broadcast came back to its owner (who keeps its row for tomorrow), without a hold.
      expect(broadcast).toMatchObject({ status: 'rate_limited' });
      expect((broadcast as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(1_000);
    } finally {
      await db.sql`delete from whatsapp_daily_sends where day = ${day}`;
    }
  });

  it('holds the queue while WhatsApp is disconnected and sends when it is back', async () => {
    const { prefix, producer } = lane({ withWorker: true, confirmTimeoutMs: 15_000 });
    const to = address('48601234567');
    // The phone unlinked the device: the new client waits for a QR scan, so nothing can go out.
    fake.world.linked = false;
    fake.latest().disconnect('UNPAIRED');
    await session.waitFor('qr');
    const handedOver = producer.send(to, { text: 'Cześć po przerwie', choices: [[{ label: 'Saldo', value: 'menu:balance' }]] });
    await sleep(1000);
    expect(fake.textsTo(to.chatId)).toEqual([]);
    fake.latest().scan();
    expect(await handedOver).toMatchObject({ status: 'sent' });
    expect(fake.textsTo(to.chatId)).toEqual(['Cześć po przerwie\n\n1. Saldo\n\n_Odpowiedz cyfrą 1 albo nazwą opcji._']);
    const inspect = new Queue(QUEUES.whatsappOut, { connection: connection(), prefix });
    try {
      const [job] = await inspect.getJobs(['completed'], 0, 0);
      expect(job?.data.to.externalId).toBe('48601234567');
      // Held and tried again, yet waiting for the connection spent no attempt: only the send counts.
      expect(job?.attemptsStarted).toBeGreaterThan(1);
      expect(job?.attemptsMade).toBe(1);
    } finally {
      await inspect.close();
    }
  });

  it('reports a number that is not on WhatsApp as unreachable, to the owner and the WhatsApp process', async () => {
    const { producer } = lane({ withWorker: true });
    expect(await producer.send(address('48999999999'), { text: 'Cześć' })).toEqual({ status: 'unreachable', reason: 'not on WhatsApp' });
    expect(unreachable).toEqual(['48999999999']);
  });
});
