/**
 * How a reply reaches the sender once its message committed: no NOTIFY inside the message's
 * transaction (Postgres would serialise every such commit on one lock), and a process without a
 * sender of its own (ROLE=web) pokes the workers' senders after commit.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildTestEngine, type TestEngineOptions } from '../../helpers/engine.js';
import {
  clearPrefix, createTestDatabase, recordingChannel, testQueuePrefix, text, until, inbound, logger, type TestDatabase,
} from '../../helpers/dialog-harness.js';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '../../helpers/redis.js';
import { createChannelRegistry } from '../../../src/channels/channel.js';
import { createOutboxSender } from '../../../src/jobs/outbox/sender.js';
import { createOutboxPoke } from '../../../src/jobs/outbox/poke.js';
import { OUTBOX_NOTIFY_CHANNEL } from '../../../src/db/outbox/repo.js';
import type { OutboxSender } from '../../../src/jobs/outbox/sender.js';

let db: TestDatabase;
const prefixes: string[] = [];
const senders: OutboxSender[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await Promise.all(prefixes.map((p) => clearPrefix(p)));
  await db?.drop();
});

function bareEngine(onCommitted?: TestEngineOptions['onCommitted']) {
  return buildTestEngine(db.sql, { balances: false, logger, ...(onCommitted ? { onCommitted } : {}) }).engine;
}

describe('outbox poke', () => {
  it('commits a message’s replies without a NOTIFY in its transaction', async () => {
    const heard: string[] = [];
    const listener = await db.sql.listen(OUTBOX_NOTIFY_CHANNEL, (payload) => heard.push(payload));
    try {
      const engine = bareEngine();
      await engine.receive(inbound({ externalId: 'quiet-1', localeHint: 'pl' }, text('Dzień dobry')));
      const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from outbox where chat_id = 'quiet-1'`;
      expect(row!.n).toBeGreaterThan(0);
      // A NOTIFY would arrive right after the commit; give it ample time to show up.
      await new Promise((r) => setTimeout(r, 300));
      expect(heard).toEqual([]);
    } finally {
      await listener.unlisten();
    }
  });

  it('a process without a sender reaches another process’s sender after commit', async () => {
    const p = testQueuePrefix();
    prefixes.push(p);
    const tg = recordingChannel('telegram');
    // The sweeper is out of the picture (its first pass runs now, before the message; the next in
    // an hour): only the poke can get the reply out within the test.
    senders.push(
      await createOutboxSender({
        sql: db.sql,
        connection: () => new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }),
        prefix: p,
        channels: createChannelRegistry([tg.adapter]),
        rates: { telegram: {} },
        logger,
        sweepIntervalMs: 3_600_000,
      }),
    );
    const web = bareEngine(createOutboxPoke({ sql: db.sql }));
    await web.receive(inbound({ externalId: 'poked-1', localeHint: 'pl' }, text('Cześć')));
    await until(() => tg.sent.some((s) => s.chatId === 'poked-1'), 5_000, 'the reply delivered after the poke');
  });

  it('with a sender in the same process, pokes it directly and sends no NOTIFY', async () => {
    const heard: string[] = [];
    const listener = await db.sql.listen(OUTBOX_NOTIFY_CHANNEL, (payload) => heard.push(payload));
    try {
      const poked: string[] = [];
      const local = { poke: async (chat?: { channel: string; chatId: string }) => void poked.push(chat!.chatId) };
      const engine = bareEngine(createOutboxPoke({ sql: db.sql, sender: local }));
      await engine.receive(inbound({ externalId: 'local-1', localeHint: 'pl' }, text('Hej')));
      expect(poked).toEqual(['local-1']);
      await new Promise((r) => setTimeout(r, 300));
      expect(heard).toEqual([]);
    } finally {
      await listener.unlisten();
    }
  });
});
