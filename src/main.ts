/**
 * Composition root: config → sql, redis, logger, i18n → services → dialog → channels → roles.
 * `startPunkto` builds everything from a Config and returns one `stop()`; running this file starts
 * the service and wires SIGTERM/SIGINT to that single shutdown path.
 */
import { pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import closeWithGrace from 'close-with-grace';
import { loadConfig, ConfigError, type Config } from './config.js';
import { createLogger, type Logger } from './shared/logger.js';
import { createSql, type Sql } from './db/sql.js';
import { migrate } from './db/migrate.js';
import { startEmbeddedPostgres, takeOverShutdownSignals } from './db/embedded-postgres.js';
import { ensureRedis, createRedisConnections, type RedisConnections } from './jobs/redis.js';
import { createI18n, type I18n } from './i18n/index.js';
import { createAdminTokens } from './services/admin-tokens.js';
import { buildServer, type RouteModule } from './http/server.js';
import { createLedger } from './services/ledger/index.js';
import { ledgerRoutes } from './http/routes/ledger.js';
import { startLedgerMaintenance } from './jobs/workers/ledger-maintenance.js';
import path from 'node:path';
import { createReceipts, createDirectoryMediaStore, createQrDecoder, createTesseractOcr, loadMediaSecret } from './services/receipts/index.js';
import { createReceiptsFlow } from './dialog/flows/receipts/index.js';
import { receiptRoutes, receiptMediaRoutes } from './http/routes/receipts.js';
import { createReceiptQueue, startReceiptWorker } from './jobs/workers/receipts.js';
import { createParticipants, createEnqueueOutbound, type ErasureHook, type ParticipantsService } from './services/participants/index.js';
import { createDialogEngine, type DialogEngine } from './dialog/engine.js';
import type { Inbound } from './dialog/types.js';
import { createFlows, type FlowModule } from './dialog/flow.js';
import { createChannelRegistry, type ChannelAdapter } from './channels/channel.js';
import { createWebAdapter } from './channels/web/adapter.js';
import { createOutboxSender, DEFAULT_RATES, type OutboxSender } from './jobs/outbox/sender.js';
import { createOutboxPoke } from './jobs/outbox/poke.js';
import { webchatRoutes } from './http/routes/webchat.js';
import { participantRoutes } from './http/routes/participants.js';
import { createTelegramChannel } from './channels/telegram/index.js';
import { createWhatsAppClient, createWhatsAppRemote, imageLoader, type WhatsAppClientRuntime, type WhatsAppRemote } from './channels/whatsapp/index.js';
import { whatsappChannelRoutes } from './http/routes/whatsapp-channel.js';
import { createBroadcasts } from './services/broadcasts/index.js';
import { createBroadcastsFlow } from './dialog/flows/broadcasts/index.js';
import { broadcastRoutes } from './http/routes/broadcasts.js';
import { createChannelGate } from './jobs/broadcasts/channel-gate.js';
import { startBroadcastWorker, createBroadcastKicker } from './jobs/broadcasts/worker.js';
import { createCampaigns } from './services/campaigns/index.js';
import { createCodes, createCodeHasher, loadCodeSecret } from './services/codes/index.js';
import { createSales } from './services/sales/index.js';
import { createBarcodeReader } from './services/sales/barcode.js';
import { campaignRoutes } from './http/routes/campaigns.js';
import { codeBatchRoutes } from './http/routes/code-batches.js';
import { salesRoutes } from './http/routes/sales.js';
import { createCodesFlow } from './dialog/flows/codes/index.js';
import { createOutboxNotifier } from './dialog/flows/codes/notifier.js';
import { createSalesFlow } from './dialog/flows/sales/index.js';
import { renderProgress } from './dialog/flows/sales/render.js';
import type { BalanceSource } from './dialog/system.js';
import { createRewards, createVoucherCipher, loadVoucherKey } from './services/rewards/index.js';
import { createRewardsFlow } from './dialog/flows/rewards/index.js';
import { rewardRoutes } from './http/routes/rewards.js';
import { orderRoutes } from './http/routes/orders.js';
import { applicationNameOf } from './db/liveness.js';
import { startLiveness } from './jobs/liveness.js';
import { watchRepeatingJobs } from './jobs/repeating.js';

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
    // The process's id names its claims (db/liveness.ts): a killed process's rows go back within seconds.
    const processId = randomUUID();
    const sql = createSql(config.DATABASE_URL ?? embedded!.url, { max: 16, applicationName: applicationNameOf(processId) });
    stops.push({ name: 'sql', stop: () => sql.end({ timeout: 5 }) });
    const { applied } = await migrate(sql);
    if (applied.length) logger.info({ applied }, 'migrations applied');

    const redisServer = await ensureRedis(config.REDIS_URL, config.DATA_DIR, logger);
    stops.push({ name: 'redis-server', stop: redisServer.stop });
    const redis = createRedisConnections(config.REDIS_URL, logger);
    stops.push({ name: 'redis', stop: redis.close });

    const worksQueues = config.ROLE === 'all' || config.ROLE === 'worker';
    const liveness = startLiveness({ sql, logger, processId, release: worksQueues, onReleased: () => void sender?.poke().catch(() => undefined) });
    stops.push({ name: 'liveness', stop: liveness.close });
    // Repeating jobs re-created when Redis lost them (flushed, restarted empty): checked every 5 s and on reconnect.
    const repeating = watchRepeatingJobs({ logger, connections: [redis.client] });
    stops.push({ name: 'repeating jobs', stop: async () => repeating.close() });

    const i18n = createI18n({ defaultLocale: config.DEFAULT_LOCALE });
    const adminTokens = createAdminTokens({ sql });
    const ledger = createLedger({ sql, logger });

    const apiRoutes: RouteModule[] = [];
    const publicRoutes: RouteModule[] = [];
    apiRoutes.push(ledgerRoutes(ledger));

    // Conversations. Feature flows push their FlowModule into `flowModules` and channels push their
    // ChannelAdapter into `channelAdapters` before the engine and the sender below are created.
    // Features holding personal data of their own (receipt photos, delivery addresses) add a hook.
    const erasureHooks: ErasureHook[] = [];
    const participants = createParticipants({ sql, defaultLocale: config.DEFAULT_LOCALE, onErase: erasureHooks });
    const enqueueOutbound = createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: config.DEFAULT_LOCALE });
    const flowModules: FlowModule[] = [];
    const channelAdapters: ChannelAdapter[] = [createWebAdapter({ sql })];
    // Photos (receipts) live under DATA_DIR/media; channels read them back to show review cards.
    const mediaStore = createDirectoryMediaStore(path.join(config.DATA_DIR, 'media'));
    // Telegram: the adapter wherever the sender runs; the bot (long polling, or the webhook route)
    // in the roles that take inbound traffic. Its `receive` reaches the engine created below.
    const telegram = createTelegramChannel({
      config,
      i18n,
      logger,
      ...(config.ROLE === 'all' || config.ROLE === 'web' ? { receive: (inbound: Inbound) => engine.receive(inbound) } : {}),
      loadMedia: async (mediaKey: string) => (await mediaStore.get(mediaKey)) ?? undefined,
      onReachability: async (identity, reachable) => {
        if (!reachable) await participants.markUnreachable(identity, 'blocked the bot');
      },
      // Read when the bot starts (after `broadcasts` below exists): managers' menus add /broadcast.
      managerChats: () => broadcasts.managerChats('telegram'),
    });
    if (telegram) {
      channelAdapters.push(telegram.adapter);
      publicRoutes.push(...telegram.routes);
    }
    // WhatsApp (issue 9): the whatsapp-web.js client runs in ROLE=all or ROLE=whatsapp (started below,
    // once the engine exists); web and worker processes hand sends to it through the whatsapp-out
    // queue and read the state it publishes.
    let whatsappClient: WhatsAppClientRuntime | undefined;
    let whatsappRemote: WhatsAppRemote | undefined;
    if (config.WHATSAPP_ENABLED && (config.ROLE === 'all' || config.ROLE === 'whatsapp')) {
      whatsappClient = createWhatsAppClient({
        config,
        sql,
        logger,
        i18n,
        sink: { receive: (inbound: Inbound) => engine.receive(inbound) },
        queueConnection: redis.bullmq,
        localeOf: async (to) => {
          const p = await participants.findByIdentity({ channel: 'whatsapp', externalId: to.externalId });
          return p ? participants.locale(p) : undefined;
        },
        loadImage: imageLoader((key) => mediaStore.get(key)),
        onUnreachable: (to, reason) => participants.markUnreachable(to, reason),
      });
      channelAdapters.push(whatsappClient.adapter);
    } else if (config.WHATSAPP_ENABLED) {
      whatsappRemote = createWhatsAppRemote({ sql, queueConnection: redis.bullmq });
      stops.push({ name: 'whatsapp queue', stop: whatsappRemote.stop });
      channelAdapters.push(whatsappRemote.adapter);
    }
    const whatsappControl = (whatsappClient ?? whatsappRemote)?.control;
    apiRoutes.push(whatsappChannelRoutes({ control: whatsappControl, sql }));
    // Campaigns, codes and sales (issue 5): services, admin routes and the two chat flows.
    const notifier = createOutboxNotifier({ enqueueOutbound, participants });
    const campaigns = createCampaigns({ sql, logger, notifier });
    const codeHash = createCodeHasher(await loadCodeSecret({ configured: config.CODE_SECRET, dataDir: config.DATA_DIR }));
    const codes = createCodes({ sql, ledger, campaigns, hash: codeHash, logger });
    const sales = createSales({ ledger, campaigns, notifier, logger });
    apiRoutes.push(campaignRoutes({ sql, campaigns, sales }), codeBatchRoutes({ codes }), salesRoutes({ sql, sales }));
    flowModules.push(createCodesFlow({ codes }), createSalesFlow({ sales, readBarcode: createBarcodeReader() }));
    // Broadcasts: one send rate per channel in Redis, shared by the outbox sender (replies first)
    // and the broadcast delivery lanes; `kickBroadcast` is set by whichever role can start a fan-out.
    const gate = createChannelGate({
      redis: redis.client,
      prefix: 'punkto',
      rates: { telegram: { perSecond: config.TELEGRAM_RATE_PER_SECOND } },
    });
    let kickBroadcast: ((id: string) => Promise<void>) | undefined;
    const broadcasts = createBroadcasts({
      sql,
      enqueueOutbound,
      defaultLocale: config.DEFAULT_LOCALE,
      kick: async (id) => kickBroadcast?.(id),
    });
    flowModules.push(createBroadcastsFlow({ broadcasts }));
    apiRoutes.push(broadcastRoutes({ sql, broadcasts }));
    // Receipt photos (issue 7): stored and acknowledged in the chat, read by the receipts worker,
    // reviewed by moderators in the chat or through the API.
    const receiptQueue = createReceiptQueue({ connection: redis.bullmq });
    stops.push({ name: 'receipt queue', stop: receiptQueue.close });
    // OCR only where receipts are read (the worker role); stopped after the receipt worker.
    const ocr =
      config.RECEIPT_OCR === 'on' && (config.ROLE === 'all' || config.ROLE === 'worker')
        ? createTesseractOcr({ dataDir: config.DATA_DIR, logger })
        : undefined;
    if (ocr) {
      await ocr.prepare();
      stops.push({ name: 'receipt OCR', stop: ocr.close });
    }
    const receipts = createReceipts({ sql, ledger, participants, enqueueOutbound, campaigns, media: mediaStore, decoder: createQrDecoder(), ocr, logger });
    erasureHooks.push((db, id) => receipts.forgetParticipant(id, db));
    flowModules.push(createReceiptsFlow({ receipts, jobs: receiptQueue }));
    const mediaSecret = await loadMediaSecret(config.DATA_DIR);
    apiRoutes.push(receiptRoutes({ receipts, i18n, mediaSecret }));
    publicRoutes.push(receiptMediaRoutes({ receipts, mediaSecret }));
    // Rewards (issue 6): catalogue and orders API, e-voucher pool encrypted with VOUCHER_KEY, chat flow.
    const rewards = createRewards({
      ledger,
      participants,
      enqueueOutbound,
      cipher: createVoucherCipher(await loadVoucherKey({ configured: config.VOUCHER_KEY, dataDir: config.DATA_DIR })),
      logger,
    });
    apiRoutes.push(rewardRoutes({ sql, rewards }), orderRoutes({ sql, rewards }));
    flowModules.push(createRewardsFlow({ rewards }));
    erasureHooks.push((db, id) => rewards.forgetParticipant(db, id));
    // ── feature flows and channel adapters are added above this line ──
    // "My balance" and /mydata: the ledger plus what sales, rewards and receipts add to them.
    const dialogLedger: BalanceSource = {
      balance: (...args) => ledger.balance(...args),
      history: (...args) => ledger.history(...args),
      progress: async (db, participant, ctx) => renderProgress(ctx.t, ctx.locale, await sales.progressOf(db, participant)),
      personalData: [
        async (db, participant) => {
          const orders = await rewards.ordersOf(db, participant.id, { limit: 50 });
          const items = orders.items.map((o) => ({ at: o.createdAt, reward: o.rewardNames, delivery: o.delivery }));
          return [{ kind: 'orders', total: orders.total, items }];
        },
        async (db, participant) => [
          { kind: 'count', what: 'sales', n: await sales.countOf(db, participant.id) },
          { kind: 'count', what: 'receipts', n: await receipts.countOf(db, participant.id) },
        ],
      ],
    };
    let sender: OutboxSender | undefined;
    const engine: DialogEngine = createDialogEngine({
      sql,
      i18n,
      participants,
      enqueueOutbound,
      flows: createFlows(flowModules),
      ledger: dialogLedger,
      logger,
      defaultLocale: config.DEFAULT_LOCALE,
      // In-process sender when this role runs one; otherwise a NOTIFY after commit for the workers.
      onCommitted: createOutboxPoke({ sql, logger, sender: () => sender }),
    });
    apiRoutes.push(participantRoutes({ sql, participants, ledger }));
    publicRoutes.push(webchatRoutes({ sql, engine, i18n, defaultLocale: config.DEFAULT_LOCALE, loadMedia: (key) => mediaStore.get(key) }));
    if (config.ROLE === 'all' || config.ROLE === 'worker') {
      sender = await createOutboxSender({
        sql,
        connection: redis.bullmq,
        channels: createChannelRegistry(channelAdapters),
        rates: DEFAULT_RATES(config.TELEGRAM_RATE_PER_SECOND),
        logger,
        gate,
      });
      stops.push({ name: 'outbox sender', stop: sender.close });
      const broadcastWorker = await startBroadcastWorker({
        sql,
        connection: redis.bullmq,
        channels: createChannelRegistry(channelAdapters),
        gate,
        i18n,
        logger,
      });
      kickBroadcast = broadcastWorker.kick;
      stops.push({ name: 'broadcast worker', stop: broadcastWorker.close });
    } else {
      const kicker = createBroadcastKicker({ connection: redis.bullmq });
      kickBroadcast = kicker.kick;
      stops.push({ name: 'broadcast kicker', stop: kicker.close });
    }

    if (config.ROLE === 'all' || config.ROLE === 'worker') {
      const ledgerMaintenance = await startLedgerMaintenance({ connection: redis.bullmq(), ledger, logger });
      stops.push({ name: 'ledger maintenance', stop: ledgerMaintenance.close });
    }
    if (config.ROLE === 'all' || config.ROLE === 'worker') {
      const receiptWorker = startReceiptWorker({ connection: redis.bullmq, receipts, logger });
      stops.push({ name: 'receipt worker', stop: receiptWorker.close });
    }

    let url: string | undefined;
    if (config.ROLE === 'all' || config.ROLE === 'web') {
      const generated = await adminTokens.bootstrap(config.ADMIN_TOKEN);
      const app = await buildServer({
        logger,
        sql,
        redis: redis.client,
        adminTokens,
        apiRoutes,
        publicRoutes,
        ...((whatsappClient ?? whatsappRemote) ? { readinessDetails: (whatsappClient ?? whatsappRemote)!.readiness } : {}),
        backlogMs: () => engine.backlogMs(),
      });
      stops.push({ name: 'http', stop: () => app.close() });
      url = await app.listen({ port: config.PORT, host: config.HOST });
      announce(logger, url, generated);
    }
    if (telegram?.bot) {
      // After the HTTP listener: in webhook mode Telegram starts delivering as soon as it is told.
      await telegram.start();
      stops.push({ name: 'telegram', stop: telegram.stop });
    }
    if (whatsappClient) {
      whatsappClient.start();
      stops.push({ name: 'whatsapp', stop: whatsappClient.stop });
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
