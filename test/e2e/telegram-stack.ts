/**
 * The real Telegram path for end-to-end tests: grammY bot (polling or webhook) → dialog engine →
 * Postgres (inbox, state, outbox) → outbox sender on BullMQ → Telegram adapter → the fake Bot API.
 * Everything is real except Telegram itself.
 */
import type { Sql } from '../../src/db/sql.js';
import { createChannelRegistry } from '../../src/channels/channel.js';
import { createTelegramAdapter } from '../../src/channels/telegram/adapter.js';
import { createTelegramBot, type TelegramBot } from '../../src/channels/telegram/bot.js';
import { createDialogEngine, type DialogEngine } from '../../src/dialog/engine.js';
import { createFlows, type FlowModule } from '../../src/dialog/flow.js';
import { createI18n, type I18n } from '../../src/i18n/index.js';
import { createRedisConnections, type RedisConnections } from '../../src/jobs/redis.js';
import { createOutboxSender, DEFAULT_RATES, type OutboxSender } from '../../src/jobs/outbox/sender.js';
import { createParticipants, type ParticipantsService } from '../../src/services/participants/index.js';
import { createEnqueueOutbound, type EnqueueOutbound } from '../../src/services/outbox/index.js';
import type { FakeTelegram } from '../fakes/telegram-server.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';
import { testLogger } from '../helpers/logger.js';

export interface TelegramStack {
  i18n: I18n;
  engine: DialogEngine;
  bot: TelegramBot;
  sender: OutboxSender;
  participants: ParticipantsService;
  enqueueOutbound: EnqueueOutbound;
  /** Stops bot, sender and connections, as a process shutdown would (the database stays). */
  stop(): Promise<void>;
}

export interface StackOptions {
  sql: Sql;
  tg: FakeTelegram;
  prefix: string;
  modules?: FlowModule[];
  webhook?: { url: string; secret: string };
  /** Start the polling loop / webhook registration (default true). */
  start?: boolean;
}

export async function startTelegramStack(options: StackOptions): Promise<TelegramStack> {
  const { sql, tg } = options;
  const logger = testLogger();
  const i18n = createI18n({ defaultLocale: 'pl' });
  const redis: RedisConnections = createRedisConnections(TEST_REDIS_URL);
  const participants = createParticipants({ sql, defaultLocale: 'pl' });
  const enqueueOutbound = createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: 'pl' });
  const adapter = createTelegramAdapter({ token: tg.token, apiRoot: tg.apiRoot, logger });
  const sender = await createOutboxSender({
    sql,
    connection: redis.bullmq,
    prefix: options.prefix,
    channels: createChannelRegistry([adapter]),
    rates: DEFAULT_RATES(30),
    logger,
    sweepIntervalMs: 500,
  });
  const engine = createDialogEngine({
    sql,
    i18n,
    participants,
    enqueueOutbound,
    flows: createFlows(options.modules ?? []),
    logger,
    defaultLocale: 'pl',
    onCommitted: (chats) => {
      for (const chat of chats) void sender.poke(chat);
    },
  });
  const bot = createTelegramBot({
    token: tg.token,
    apiRoot: tg.apiRoot,
    ...(options.webhook ? { webhook: options.webhook } : {}),
    defaultLocale: 'pl',
    i18n,
    logger,
    receive: (inbound) => engine.receive(inbound),
    onReachability: async (identity, reachable) => {
      if (!reachable) await participants.markUnreachable(sql, identity, 'blocked the bot');
    },
    polling: { timeoutSeconds: 1, backoffMs: 100, maxBackoffMs: 500 },
  });
  if (options.start !== false) await bot.start();
  return {
    i18n,
    engine,
    bot,
    sender,
    participants,
    enqueueOutbound,
    async stop() {
      await bot.stop();
      await sender.close();
      await redis.close();
    },
  };
}
