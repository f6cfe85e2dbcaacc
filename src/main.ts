/**
 * Composition root: config → storage, i18n → core services → channels → delivery → feature areas
 * (src/features) → engine → inbound → HTTP, each role's part decided once (`rolesOf`). Every part
 * is made before it is used. `startPunkto` returns one `stop()`; running this file starts the
 * service and wires SIGTERM/SIGINT to that single shutdown path.
 */
import { pathToFileURL } from 'node:url';
import closeWithGrace from 'close-with-grace';
import { loadConfig, ConfigError, docsAccess, type Config } from './config.js';
import { resolveRedisPrefix } from './jobs/redis-prefix.js';
import { createLogger, type Logger } from './shared/logger.js';
import { createSql, type Sql } from './db/sql.js';
import { migrate } from './db/migrate.js';
import { startEmbeddedPostgres, takeOverShutdownSignals } from './db/embedded-postgres.js';
import { ensureRedis, createRedisConnections, type RedisConnections } from './jobs/redis.js';
import { createI18n, type I18n } from './i18n/index.js';
import { createAdminTokens } from './services/admin-tokens.js';
import { createLedger } from './services/ledger/index.js';
import { createParticipants, type ErasureHook, type ParticipantsService } from './services/participants/index.js';
import { createEnqueueOutbound } from './services/outbox/index.js';
import { createDialogEngine, type DialogEngine } from './dialog/engine.js';
import { createFlows } from './dialog/flow.js';
import { createOutboxPoke } from './jobs/outbox/poke.js';
import { buildServer } from './http/server.js';
import { webchatRoutes } from './http/routes/webchat.js';
import { whatsappChannelRoutes } from './http/routes/whatsapp-channel.js';
import { createLifecycle, type Core, type Feature, type Lifecycle } from './features/feature.js';
import { rolesOf } from './features/roles.js';
import { createChannels } from './features/channels.js';
import { startDelivery } from './features/delivery.js';
import { processIdentity, startRecovery } from './features/recovery.js';
import { broadcastsFeature, campaignsFeature, ledgerFeature, mediaStoreOf, receiptsFeature, rewardsFeature } from './features/areas.js';

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
  const life = createLifecycle(logger);
  try {
    const { processId, applicationName } = processIdentity();
    const { sql, redis } = await startStorage(config, logger, life, applicationName);
    const runs = rolesOf(config.ROLE);
    const i18n = createI18n({ defaultLocale: config.DEFAULT_LOCALE });
    const erasureHooks: ErasureHook[] = [];
    const participants = createParticipants({ sql, defaultLocale: config.DEFAULT_LOCALE, onErase: erasureHooks });
    const enqueueOutbound = createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: config.DEFAULT_LOCALE });
    const ledger = createLedger({ sql, logger });
    const core: Core = { config, logger, sql, redis, i18n, runs, life, ledger, participants, enqueueOutbound, mediaStore: mediaStoreOf(config) };

    const channels = createChannels(core);
    const delivery = await startDelivery(core, channels.adapters);
    startRecovery(core, processId, delivery.sender);
    const campaigns = await campaignsFeature(core);
    const broadcasts = broadcastsFeature(core, delivery.kick);
    const receipts = await receiptsFeature(core, campaigns.campaigns);
    const rewards = await rewardsFeature(core);
    const features: Feature[] = [ledgerFeature(core), campaigns, broadcasts, receipts, rewards];
    erasureHooks.push(...features.flatMap((f) => f.erasureHooks ?? []));

    const engine = createDialogEngine({
      sql,
      i18n,
      participants,
      enqueueOutbound,
      flows: createFlows(features.flatMap((f) => f.flows ?? [])),
      balances: {
        balance: (...args) => ledger.balance(...args),
        history: (...args) => ledger.history(...args),
        ...(campaigns.progress ? { progress: campaigns.progress } : {}),
        // In the order /mydata shows them: orders, then sales and receipts.
        personalData: [rewards, campaigns, receipts].flatMap((f) => f.personalData ?? []),
      },
      logger,
      defaultLocale: config.DEFAULT_LOCALE,
      // The in-process sender when this role runs one; otherwise a NOTIFY after commit for the workers.
      onCommitted: createOutboxPoke({ sql, logger, ...(delivery.sender ? { sender: delivery.sender } : {}) }),
    });
    const inbound = channels.listen(engine, {
      onReachability: async (identity, reachable) => {
        if (!reachable) await participants.markUnreachable(sql, identity, 'blocked the bot');
      },
      // Managers' menus add /broadcast.
      managerChats: () => broadcasts.broadcasts.managerChats('telegram'),
    });
    if (runs.worker) for (const f of features) await f.startWorkers?.();

    let url: string | undefined;
    if (runs.web) {
      const adminTokens = createAdminTokens({ sql });
      const generated = await adminTokens.bootstrap(config.ADMIN_TOKEN);
      const app = await buildServer({
        logger,
        sql,
        redis: redis.client,
        adminTokens,
        apiRoutes: [whatsappChannelRoutes({ control: channels.whatsappControl, sql }), ...features.flatMap((f) => f.apiRoutes ?? [])],
        publicRoutes: [
          ...(inbound.telegram?.routes ?? []),
          ...features.flatMap((f) => f.publicRoutes ?? []),
          webchatRoutes({ sql, engine, i18n, defaultLocale: config.DEFAULT_LOCALE, loadMedia: (key) => core.mediaStore.get(key) }),
        ],
        ...(channels.readiness ? { readinessDetails: channels.readiness } : {}),
        backlogMs: () => engine.backlogMs(),
        trustProxy: config.TRUST_PROXY,
        docs: docsAccess(config),
      });
      life.add('http', () => app.close());
      url = await app.listen({ port: config.PORT, host: config.HOST });
      announce(logger, url, generated);
    }
    // After the HTTP listener: in webhook mode Telegram starts delivering as soon as it is told.
    await channels.start(inbound, engine);
    return { config, logger, sql, redis, i18n, url, stop: life.stop, engine, participants };
  } catch (error) {
    await life.stop();
    throw error;
  }
}

/** Postgres (embedded without DATABASE_URL), migrated, and Redis (started when none answers). */
async function startStorage(config: Config, logger: Logger, life: Lifecycle, applicationName: string): Promise<{ sql: Sql; redis: RedisConnections }> {
  const embedded = config.DATABASE_URL ? undefined : await startEmbeddedPostgres(config.DATA_DIR, logger);
  if (embedded) life.add('embedded postgres', embedded.stop);
  const sql = createSql(config.DATABASE_URL ?? embedded!.url, { max: 16, applicationName });
  life.add('sql', () => sql.end({ timeout: 5 }));
  const { applied } = await migrate(sql);
  if (applied.length) logger.info({ applied }, 'migrations applied');
  const redisServer = await ensureRedis(config.REDIS_URL, config.DATA_DIR, logger);
  life.add('redis-server', redisServer.stop);
  const redis = createRedisConnections(config.REDIS_URL, await resolveRedisPrefix(sql, config.REDIS_PREFIX), logger);
  life.add('redis', redis.close);
  return { sql, redis };
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
  takeOverShutdownSignals();
  const starting = startPunkto(config, logger);
  // One shutdown path for SIGTERM, SIGINT and fatal errors; a second signal exits at once. A signal
  // during start-up waits for the start to finish (or fail) and then stops what it started.
  closeWithGrace({ delay: 15_000, logger: { error: (m: unknown) => logger.error(m) } }, async ({ err, signal }) => {
    if (err) logger.error({ err }, 'fatal error, shutting down');
    else logger.info({ signal }, 'shutting down');
    const punkto = await starting.catch(() => undefined);
    await punkto?.stop();
  });
  try {
    await starting;
  } catch (error) {
    logger.fatal({ err: error }, (error as Error).message);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
