/**
 * The outbox sender in a web/worker process handing WhatsApp messages to the ROLE=whatsapp process:
 * an outbox row is marked sent only once WhatsApp really sent it, and a Redis flush in between
 * neither loses the message nor sends it twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import * as outboxRepo from '../../../src/db/outbox/repo.js';
import { createWhatsAppAdapter, type WhatsAppAdapter } from '../../../src/channels/whatsapp/adapter.js';
import { createMenuStore } from '../../../src/channels/whatsapp/menus.js';
import { createLidStore } from '../../../src/channels/whatsapp/lids.js';
import { createSentLedger } from '../../../src/channels/whatsapp/sent-ledger.js';
import { createPacer } from '../../../src/channels/whatsapp/pacing.js';
import { createWhatsAppSession, type WhatsAppSession } from '../../../src/channels/whatsapp/session.js';
import { createQueuedWhatsAppAdapter, startWhatsAppOutWorker } from '../../../src/jobs/whatsapp-out/queue.js';
import { createI18n } from '../../../src/i18n/index.js';
import type { OutboxSender } from '../../../src/jobs/outbox/sender.js';
import { createFakeWhatsApp } from '../../fakes/whatsapp-client.js';
import { startSender } from '../../helpers/dialog-harness.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { testLogger } from '../../helpers/logger.js';
import { TEST_REDIS_URL, clearPrefix, testQueuePrefix } from '../../helpers/redis.js';

const prefix = testQueuePrefix();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('outbox → whatsapp-out → WhatsApp', () => {
  let db: TestDatabase;
  let programId: string;
  let fake: ReturnType<typeof createFakeWhatsApp>;
  let session: WhatsAppSession;
  let adapter: WhatsAppAdapter;
  let producer: ReturnType<typeof createQueuedWhatsAppAdapter>;
  let sender: OutboxSender;
  let worker: ReturnType<typeof startWhatsAppOutWorker> | undefined;
  const connections: Redis[] = [];
  const connection = () => {
    const r = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(r);
    return r;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    programId = (await db.sql<{ id: string }[]>`select id from programs where slug = 'default'`)[0]!.id;
    fake = createFakeWhatsApp({ linked: true });
    session = createWhatsAppSession({ factory: fake.factory, logger: testLogger(), onMessage: async () => undefined, options: { healthEveryMs: 0, restartEveryMs: 0, printQr: false } });
    adapter = createWhatsAppAdapter({
      session,
      factory: fake.factory,
      menus: createMenuStore(db.sql),
      sent: createSentLedger(db.sql),
      lids: createLidStore(db.sql),
      pacer: createPacer({ db: db.sql, options: { minDelayMs: 5, maxDelayMs: 10 } }),
      i18n: createI18n({ defaultLocale: 'pl' }),
      defaultLocale: 'pl',
      logger: testLogger(),
    });
    session.start();
    await session.waitFor('ready');
    producer = createQueuedWhatsAppAdapter({ connection, prefix, confirmTimeoutMs: 1_000, retryAfterMs: 300 });
    sender = await startSender(db.sql, [producer], prefix, { whatsapp: { concurrency: 1 } }, { staleClaimMs: 5_000 });
  });
  afterAll(async () => {
    await sender?.close();
    await worker?.close();
    await producer?.close();
    await session?.stop();
    for (const c of connections) c.disconnect();
    await clearPrefix(prefix);
    await db?.drop();
  });

  it('marks the row sent only when WhatsApp sent it; a Redis flush before that loses nothing and sends nothing twice', async () => {
    const chatId = '351913000111@c.us';
    const id = await outboxRepo.insert(db.sql, {
      programId, channel: 'whatsapp', externalId: '351913000111', chatId, identityId: null, participantId: null, kind: 'reply',
      message: { text: 'Obrigado! Recebemos o seu talão.' },
    });
    // The WhatsApp process is not consuming yet: handed over, but not delivered.
    await sleep(1_500);
    const waiting = await outboxRepo.getById(db.sql, id!);
    expect(waiting?.status).not.toBe('sent');
    expect(fake.textsTo(chatId)).toEqual([]);

    // Redis loses everything; then the WhatsApp process comes up.
    await clearPrefix(prefix);
    worker = startWhatsAppOutWorker({ connection: connection(), prefix, adapter, logger: testLogger() });

    await expect.poll(async () => (await outboxRepo.getById(db.sql, id!))?.status, { timeout: 15_000 }).toBe('sent');
    expect(fake.textsTo(chatId)).toEqual(['Obrigado! Recebemos o seu talão.']);
    const [row] = await db.sql<{ providerMessageId: string | null }[]>`select provider_message_id from outbox where id = ${id!}`;
    expect(row?.providerMessageId).toMatch(/^true_351913000111@c\.us_OUT/);
    await sleep(1_000);
    expect(fake.textsTo(chatId)).toHaveLength(1);
  });
});
