/**
 * A broadcast worker process for the kill-and-restart test: the same lanes and fan-out as in
 * production, against the database, Redis prefix and (fake) Telegram API given in the environment.
 * Prints "ready" once started; SIGTERM shuts it down gracefully, SIGKILL is a crash.
 */
import { createSql } from '../../src/db/sql.js';
import { createTelegramAdapter } from '../../src/channels/telegram/adapter.js';
import { createChannelRegistry } from '../../src/channels/channel.js';
import { createI18n } from '../../src/i18n/index.js';
import { createRedisConnections } from '../../src/jobs/redis.js';
import { createChannelGate } from '../../src/jobs/rate-gate.js';
import { startBroadcastWorker } from '../../src/jobs/broadcasts/worker.js';
import { createLogger } from '../../src/shared/logger.js';

const env = process.env;
const rate = Number(env.RATE ?? 50);
const sql = createSql(env.DATABASE_URL!, { max: 8 });
const redis = createRedisConnections(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const logger = createLogger({ level: env.TEST_LOG ?? 'silent', pretty: false });
const adapter = createTelegramAdapter({ token: env.TG_TOKEN!, apiRoot: env.TG_API_ROOT!, logger });
const worker = await startBroadcastWorker({
  sql,
  connection: redis.bullmq,
  prefix: env.PREFIX,
  channels: createChannelRegistry([adapter]),
  gate: createChannelGate({ redis: redis.client, prefix: env.PREFIX!, rates: { telegram: { perSecond: rate } } }),
  i18n: createI18n({ defaultLocale: 'pl' }),
  logger,
  automaticEnabled: false,
  tickEveryMs: 300,
  delivery: { staleClaimMs: Number(env.STALE_MS ?? 1500) },
});
await worker.tick();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void (async () => {
    await worker.close();
    await redis.close();
    await sql.end({ timeout: 5 });
    process.exit(0);
  })();
});
