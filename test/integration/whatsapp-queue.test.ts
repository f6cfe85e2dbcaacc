import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { QUEUES } from '../../src/jobs/contracts.js';
import { createWhatsAppAdapter } from '../../src/channels/whatsapp/adapter.js';
import { createMenuStore } from '../../src/channels/whatsapp/menus.js';
import { createPacer } from '../../src/channels/whatsapp/pacing.js';
import { createWhatsAppSession, type WhatsAppSession } from '../../src/channels/whatsapp/session.js';
import { createQueuedWhatsAppAdapter, startWhatsAppOutWorker } from '../../src/channels/whatsapp/queue.js';
import { createI18n } from '../../src/i18n/index.js';
import type { ChannelAddress } from '../../src/dialog/types.js';
import { createFakeWhatsApp } from '../fakes/whatsapp-client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { testLogger } from '../helpers/logger.js';
import { TEST_REDIS_URL, clearPrefix, testQueuePrefix } from '../helpers/redis.js';

const prefix = testQueuePrefix();
const address = (digits: string): ChannelAddress => ({ channel: 'whatsapp', externalId: digits, chatId: `${digits}@c.us` });

describe('ROLE=whatsapp: outbound messages through the whatsapp-out queue', () => {
  let db: TestDatabase;
  let session: WhatsAppSession;
  let fake: ReturnType<typeof createFakeWhatsApp>;
  const connections: Redis[] = [];
  const connection = () => {
    const r = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(r);
    return r;
  };
  let producer: ReturnType<typeof createQueuedWhatsAppAdapter>;
  let worker: ReturnType<typeof startWhatsAppOutWorker>;
  const unreachable: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    fake = createFakeWhatsApp({ linked: true, unknownNumbers: new Set(['48999999999@c.us']) });
    session = createWhatsAppSession({ factory: fake.factory, logger: testLogger(), onMessage: async () => undefined, options: { healthEveryMs: 0, restartEveryMs: 0, backoffInitialMs: 5, printQr: false } });
    const adapter = createWhatsAppAdapter({
      session,
      factory: fake.factory,
      menus: createMenuStore(db.sql),
      pacer: createPacer({ db: db.sql, options: { minDelayMs: 5, maxDelayMs: 15 } }),
      i18n: createI18n({ defaultLocale: 'pl' }),
      defaultLocale: 'pl',
      logger: testLogger(),
      notConnectedRetryMs: 300,
    });
    producer = createQueuedWhatsAppAdapter({ connection: connection(), prefix });
    worker = startWhatsAppOutWorker({
      connection: connection(),
      prefix,
      adapter,
      logger: testLogger(),
      onUnreachable: async (to) => void unreachable.push(to.externalId),
    });
    session.start();
    await session.waitFor('ready');
  });
  afterAll(async () => {
    await worker.close();
    await producer.close();
    await session.stop();
    for (const c of connections) c.disconnect();
    await clearPrefix(prefix);
    await db.drop();
  });

  it('delivers what another process handed over, in order, once per key', async () => {
    const to = address('351912345678');
    for (let i = 1; i <= 5; i++) {
      expect(await producer.send(to, { text: `mensagem ${i}` }, { key: `outbox-${i}` })).toMatchObject({ status: 'sent' });
    }
    // The same outbox row handed over again (a retry of the hand-over) is not sent twice.
    await producer.send(to, { text: 'mensagem 3' }, { key: 'outbox-3' });
    await expect.poll(() => fake.textsTo(to.chatId).length, { timeout: 10_000 }).toBe(5);
    expect(fake.textsTo(to.chatId)).toEqual(['mensagem 1', 'mensagem 2', 'mensagem 3', 'mensagem 4', 'mensagem 5']);
  });

  it('holds the queue while WhatsApp is disconnected and sends when it is back', async () => {
    const to = address('48601234567');
    // The phone unlinked the device: the new client waits for a QR scan, so nothing can go out.
    fake.world.linked = false;
    fake.latest().disconnect('UNPAIRED');
    await session.waitFor('qr');
    await producer.send(to, { text: 'Cześć po przerwie', choices: [[{ label: 'Saldo', value: 'menu:balance' }]] });
    await new Promise((r) => setTimeout(r, 1000));
    expect(fake.textsTo(to.chatId)).toEqual([]);
    fake.latest().scan();
    await expect.poll(() => fake.textsTo(to.chatId), { timeout: 10_000 }).toEqual(['Cześć po przerwie\n\n1. Saldo\n\n_Odpowiedz cyfrą 1 albo nazwą opcji._']);
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

  it('reports a number that is not on WhatsApp as unreachable and does not retry it', async () => {
    await producer.send(address('48999999999'), { text: 'Cześć' });
    await expect.poll(() => unreachable, { timeout: 10_000 }).toEqual(['48999999999']);
  });
});
