/**
 * WhatsApp, assembled for main.ts.
 *
 * - `startWhatsAppClient` (ROLE=all or ROLE=whatsapp, WHATSAPP_ENABLED=true): the whatsapp-web.js
 *   client with its session, the paced adapter, inbound messages into the dialog engine, the status
 *   board for other processes, and (ROLE=whatsapp) the worker that sends what the queue brings.
 * - `createWhatsAppRemote` (ROLE=web or ROLE=worker with WHATSAPP_ENABLED=true): an adapter that
 *   hands sends to the WhatsApp process through the `whatsapp-out` queue, and a control that reads
 *   the status that process publishes.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../config.js';
import type { Sql } from '../../db/sql.js';
import type { I18n, Locale } from '../../i18n/index.js';
import type { Logger } from '../../shared/logger.js';
import type { ChannelAddress } from '../../dialog/types.js';
import { createWhatsAppAdapter, type InboundSink, type WhatsAppAdapter, type WhatsAppAdapterDeps } from './adapter.js';
import { createStatusBoard, localControl, remoteControl, whatsappReadiness, type WhatsAppControl } from './control.js';
import { createLidStore } from './lids.js';
import { createMenuStore } from './menus.js';
import { createPacer } from './pacing.js';
import { createQueuedWhatsAppAdapter, startWhatsAppOutWorker, type QueuedWhatsAppAdapter } from './queue.js';
import { createRealClientFactory } from './real-client.js';
import { createPostgresSessionStore } from './remote-auth-store.js';
import { createSentLedger } from './sent-ledger.js';
import { createWhatsAppSession, type SessionOptions, type WhatsAppSession } from './session.js';
import type { WaClientFactory } from './wa-client.js';

export type { WhatsAppControl } from './control.js';

export interface WhatsAppClientRuntime {
  adapter: WhatsAppAdapter;
  session: WhatsAppSession;
  control: WhatsAppControl;
  readiness: ReturnType<typeof whatsappReadiness>;
  /** Launches the client (and the queue worker); call once the engine behind `sink` exists. */
  start(): void;
  stop(): Promise<void>;
}

export interface StartWhatsAppClientDeps {
  config: Config;
  sql: Sql;
  logger: Logger;
  i18n: I18n;
  /** The dialog engine (`DialogEngine.receive`). */
  sink: InboundSink;
  /** BullMQ connection factory; given with ROLE=whatsapp to consume the whatsapp-out queue. */
  queueConnection?: () => Redis;
  queuePrefix?: string;
  localeOf?: (to: ChannelAddress) => Promise<Locale | undefined>;
  loadImage?: WhatsAppAdapterDeps['loadImage'];
  onUnreachable?: (to: ChannelAddress, reason: string) => Promise<void>;
  /** Tests pass the fake client's factory. */
  factory?: WaClientFactory;
  sessionOptions?: Partial<SessionOptions>;
}

export function whatsappClientFactory(config: Config, sql: Sql): WaClientFactory {
  return createRealClientFactory({
    chromiumPath: config.CHROMIUM_PATH,
    session:
      config.WHATSAPP_SESSION_STORE === 'postgres'
        ? { kind: 'remote', dataDir: config.DATA_DIR, store: createPostgresSessionStore(sql, config.DATA_DIR) }
        : { kind: 'local', dataDir: config.DATA_DIR },
  });
}

export function createWhatsAppClient(deps: StartWhatsAppClientDeps): WhatsAppClientRuntime {
  const { config, sql, logger } = deps;
  const factory = deps.factory ?? whatsappClientFactory(config, sql);
  let adapter: WhatsAppAdapter | undefined;
  const session = createWhatsAppSession({
    factory,
    logger,
    onMessage: async (message, client) => {
      await adapter!.handleIncoming(message, client, deps.sink);
    },
    options: { restartEveryMs: config.WHATSAPP_RESTART_HOURS * 3600_000, ...deps.sessionOptions },
  });
  adapter = createWhatsAppAdapter({
    session,
    factory,
    menus: createMenuStore(sql),
    sent: createSentLedger(sql),
    lids: createLidStore(sql),
    pacer: createPacer({
      db: sql,
      options: {
        minDelayMs: config.WHATSAPP_MIN_DELAY_MS,
        maxDelayMs: Math.max(config.WHATSAPP_MIN_DELAY_MS, config.WHATSAPP_MAX_DELAY_MS),
        dailyCap: config.WHATSAPP_DAILY_CAP,
      },
    }),
    i18n: deps.i18n,
    defaultLocale: config.DEFAULT_LOCALE,
    logger,
    ...(deps.localeOf ? { localeOf: deps.localeOf } : {}),
    ...(deps.loadImage ? { loadImage: deps.loadImage } : {}),
  });

  const board = createStatusBoard(sql);
  let stopBoard: (() => Promise<void>) | undefined;
  let worker: ReturnType<typeof startWhatsAppOutWorker> | undefined;
  const control = localControl(session);
  const localAdapter = adapter;
  return {
    adapter,
    session,
    control,
    readiness: whatsappReadiness(control),
    start() {
      if (stopBoard) return;
      stopBoard = board.follow(session, logger);
      if (deps.queueConnection) {
        worker = startWhatsAppOutWorker({
          connection: deps.queueConnection(),
          ...(deps.queuePrefix ? { prefix: deps.queuePrefix } : {}),
          adapter: localAdapter,
          logger,
          ...(deps.onUnreachable ? { onUnreachable: deps.onUnreachable } : {}),
        });
      }
      logger.info({ strategy: factory.describe.strategy, chromium: factory.describe.executablePath }, 'starting whatsapp client');
      session.start();
    },
    async stop() {
      await worker?.close();
      await session.stop();
      await stopBoard?.();
    },
  };
}

export interface WhatsAppRemote {
  adapter: QueuedWhatsAppAdapter;
  control: WhatsAppControl;
  readiness: ReturnType<typeof whatsappReadiness>;
  stop(): Promise<void>;
}

export function createWhatsAppRemote(deps: { sql: Sql; queueConnection: () => Redis; queuePrefix?: string }): WhatsAppRemote {
  const adapter = createQueuedWhatsAppAdapter({ connection: deps.queueConnection, ...(deps.queuePrefix ? { prefix: deps.queuePrefix } : {}) });
  const control = remoteControl(createStatusBoard(deps.sql));
  return { adapter, control, readiness: whatsappReadiness(control), stop: () => adapter.close() };
}

export { imageLoader, sniffImageType } from './images.js';
