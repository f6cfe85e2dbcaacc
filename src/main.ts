/**
 * Composition root: config → sql, redis, logger, i18n → services → dialog → channels → roles.
 * `startPunkto` builds everything from a Config and returns one `stop()`; running this file starts
 * the service and wires SIGTERM/SIGINT to that single shutdown path.
 */
import { pathToFileURL } from 'node:url';
import closeWithGrace from 'close-with-grace';
import { loadConfig, ConfigError, type Config } from './config.js';
import { createLogger, type Logger } from './shared/logger.js';
import { createSql, type Sql } from './db/sql.js';
import { migrate } from './db/migrate.js';
import { startEmbeddedPostgres } from './db/embedded-postgres.js';
import { ensureRedis, createRedisConnections, type RedisConnections } from './jobs/redis.js';
import { createI18n, type I18n } from './i18n/index.js';
import { createAdminTokens } from './services/admin-tokens.js';
import { buildServer, type RouteModule } from './http/server.js';
import { createLedger } from './services/ledger/index.js';
import { ledgerRoutes } from './http/routes/ledger.js';
import { startLedgerMaintenance } from './jobs/workers/ledger-maintenance.js';
import { createParticipants, createEnqueueOutbound, type ParticipantsService } from './services/participants/index.js';
import { createDialogEngine, type DialogEngine } from './dialog/engine.js';
import type { Inbound } from './dialog/types.js';
import { createFlows, type FlowModule } from './dialog/flow.js';
import { createChannelRegistry, type ChannelAdapter } from './channels/channel.js';
import { createWebAdapter } from './channels/web/adapter.js';
import { createOutboxSender, DEFAULT_RATES, type OutboxSender } from './jobs/outbox/sender.js';
import { webchatRoutes } from './http/routes/webchat.js';
import { participantRoutes } from './http/routes/participants.js';
import { createTelegramChannel } from './channels/telegram/index.js';

export interface Punkto {
  config: Config;
  logger: Logger;
  sql: Sql;
  redis: RedisConnections;
  i18n: I18n;
  /** The listening address when the role serves HTTP. */
  url?: string;
  /** The conversation engine (channels hand it their inbound messages). */
  engine: DialogEngine;
  participants: ParticipantsService;
  stop(): Promise<void>;
}

export async function startPunkto(config: Config, logger = defaultLogger(config)): Promise<Punkto> {
  const stops: Array<{ name: string; stop: () => Promise<unknown> }> = [];
  const stop = async () => {
    // Reverse order of start: HTTP and bots first, connections and embedded servers last.
    for (const s of stops.reverse()) {
      try {
        await s.stop();
      } catch (error) {
        logger.warn({ err: error, what: s.name }, 'error while stopping');
      }
    }
    stops.length = 0;
  };
  try {
    const embedded = config.DATABASE_URL ? undefined : await startEmbeddedPostgres(config.DATA_DIR, logger);
    if (embedded) stops.push({ name: 'embedded postgres', stop: embedded.stop });
    const sql = createSql(config.DATABASE_URL ?? embedded!.url, { max: 16 });
    stops.push({ name: 'sql', stop: () => sql.end({ timeout: 5 }) });
    const { applied } = await migrate(sql);
    if (applied.length) logger.info({ applied }, 'migrations applied');

    const redisServer = await ensureRedis(config.REDIS_URL, config.DATA_DIR, logger);
    stops.push({ name: 'redis-server', stop: redisServer.stop });
    const redis = createRedisConnections(config.REDIS_URL);
    stops.push({ name: 'redis', stop: redis.close });

    const i18n = createI18n({ defaultLocale: config.DEFAULT_LOCALE });
    const adminTokens = createAdminTokens({ sql });
    const ledger = createLedger({ sql, logger });

    const apiRoutes: RouteModule[] = [];
    const publicRoutes: RouteModule[] = [];
    apiRoutes.push(ledgerRoutes(ledger));

    // Conversations. Feature flows push their FlowModule into `flowModules` and channels push their
    // ChannelAdapter into `channelAdapters` before the engine and the sender below are created.
    const participants = createParticipants({ sql, defaultLocale: config.DEFAULT_LOCALE });
    const enqueueOutbound = createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: config.DEFAULT_LOCALE });
    const flowModules: FlowModule[] = [];
    const channelAdapters: ChannelAdapter[] = [createWebAdapter({ sql })];
    // Telegram: the adapter wherever the sender runs; the bot (long polling, or the webhook route)
    // in the roles that take inbound traffic. Its `receive` reaches the engine created below.
    const telegram = createTelegramChannel({
      config,
      i18n,
      logger,
      ...(config.ROLE === 'all' || config.ROLE === 'web' ? { receive: (inbound: Inbound) => engine.receive(inbound) } : {}),
      onReachability: async (identity, reachable) => {
        if (!reachable) await participants.markUnreachable(identity, 'blocked the bot');
      },
    });
    if (telegram) {
      channelAdapters.push(telegram.adapter);
      publicRoutes.push(...telegram.routes);
    }
    // ── feature flows and channel adapters are added above this line ──
    let sender: OutboxSender | undefined;
    const engine: DialogEngine = createDialogEngine({
      sql,
      i18n,
      participants,
      enqueueOutbound,
      flows: createFlows(flowModules),
      ledger,
      logger,
      defaultLocale: config.DEFAULT_LOCALE,
      onCommitted: (chats) => {
        for (const chat of chats) void sender?.poke(chat).catch(() => undefined);
      },
    });
    apiRoutes.push(participantRoutes({ sql, participants, ledger }));
    publicRoutes.push(webchatRoutes({ sql, engine, i18n, defaultLocale: config.DEFAULT_LOCALE }));
    if (config.ROLE === 'all' || config.ROLE === 'worker') {
      sender = await createOutboxSender({
        sql,
        connection: redis.bullmq,
        channels: createChannelRegistry(channelAdapters),
        rates: DEFAULT_RATES(config.TELEGRAM_RATE_PER_SECOND),
        logger,
      });
      stops.push({ name: 'outbox sender', stop: sender.close });
    }

    if (config.ROLE === 'all' || config.ROLE === 'worker') {
      const ledgerMaintenance = await startLedgerMaintenance({ connection: redis.bullmq(), ledger, logger });
      stops.push({ name: 'ledger maintenance', stop: ledgerMaintenance.close });
    }

    let url: string | undefined;
    if (config.ROLE === 'all' || config.ROLE === 'web') {
      const generated = await adminTokens.bootstrap(config.ADMIN_TOKEN);
      const app = await buildServer({ logger, sql, redis: redis.client, adminTokens, apiRoutes, publicRoutes });
      stops.push({ name: 'http', stop: () => app.close() });
      url = await app.listen({ port: config.PORT, host: config.HOST });
      announce(logger, url, generated);
    }
    if (telegram?.bot) {
      // After the HTTP listener: in webhook mode Telegram starts delivering as soon as it is told.
      await telegram.start();
      stops.push({ name: 'telegram', stop: telegram.stop });
    }
    return { config, logger, sql, redis, i18n, url, stop, engine, participants };
  } catch (error) {
    await stop();
    throw error;
  }
}

function defaultLogger(config: Config): Logger {
  return createLogger({ level: config.LOG_LEVEL, pretty: config.NODE_ENV !== 'production' && process.stdout.isTTY });
}

function announce(logger: Logger, url: string, generatedToken: string | undefined): void {
  const lines = [`Punkto is up: ${url}`, `  web chat:  ${url}/chat`, `  API docs:  ${url}/docs`];
  if (generatedToken) {
    lines.push(
      `  admin token (shown once, only its hash is stored; set ADMIN_TOKEN to choose your own):`,
      `    ${generatedToken}`,
    );
  }
  // Printed, not logged: the token must never reach log storage.
  process.stdout.write(`\n${lines.join('\n')}\n\n`);
  logger.info({ url }, 'listening');
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
    process.exit(1);
  }
  const logger = defaultLogger(config);
  let punkto: Punkto | undefined;
  // One shutdown path for SIGTERM, SIGINT and fatal errors; a second signal exits at once.
  closeWithGrace({ delay: 15_000, logger: { error: (m: unknown) => logger.error(m) } }, async ({ err, signal }) => {
    if (err) logger.error({ err }, 'fatal error, shutting down');
    else logger.info({ signal }, 'shutting down');
    await punkto?.stop();
  });
  try {
    punkto = await startPunkto(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, (error as Error).message);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
