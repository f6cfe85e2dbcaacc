/**
 * WhatsApp, assembled for main.ts: `createWhatsAppClient` (ROLE=all or ROLE=whatsapp,
 * WHATSAPP_ENABLED=true) is the whatsapp-web.js client with its session, the paced adapter, inbound
 * messages into the dialog engine and the status board for other processes. The `whatsapp-out`
 * queue that carries other processes' sends to it is a job: src/jobs/whatsapp-out.
 */
import type { Config } from '../../config.js';
import type { Sql } from '../../db/sql.js';
import type { I18n, Locale } from '../../i18n/index.js';
import type { Logger } from '../../shared/logger.js';
import type { ChannelAddress } from '../../dialog/types.js';
import { createWhatsAppAdapter, type InboundSink, type WhatsAppAdapter, type WhatsAppAdapterDeps } from './adapter.js';
import { createStatusBoard, localControl, whatsappReadiness, type WhatsAppControl } from './control.js';
import { createLidStore } from './lids.js';
import { createMenuStore } from './menus.js';
import { createPacer } from './pacing.js';
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
  /** Launches the client, handing its inbound messages to `sink` (the engine's `receive`). */
  start(sink: InboundSink): void;
  stop(): Promise<void>;
}

export interface StartWhatsAppClientDeps {
  config: Config;
  sql: Sql;
  logger: Logger;
  i18n: I18n;
  localeOf?: (to: ChannelAddress) => Promise<Locale | undefined>;
  loadImage?: WhatsAppAdapterDeps['loadImage'];
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
  let sink: InboundSink | undefined;
  const session = createWhatsAppSession({
    factory,
    logger,
    onMessage: async (message, client) => {
      await adapter!.handleIncoming(message, client, sink!);
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
  const control = localControl(session);
  return {
    adapter,
    session,
    control,
    readiness: whatsappReadiness(control),
    start(to) {
      if (stopBoard) return;
      sink = to;
      stopBoard = board.follow(session, logger);
      logger.info({ strategy: factory.describe.strategy, chromium: factory.describe.executablePath }, 'starting whatsapp client');
      session.start();
    },
    async stop() {
      await session.stop();
      await stopBoard?.();
    },
  };
}

export { imageLoader, sniffImageType } from './images.js';
