/**
 * The Telegram channel as main.ts sees it: the adapter (for whoever runs the outbox sender) and,
 * for roles that take inbound traffic, `listen()`: the bot (long polling, or the webhook route +
 * setWebhook) handing updates to the engine.
 *
 *   TELEGRAM_BOT_TOKEN unset            → no Telegram at all (the web chat still works)
 *   TELEGRAM_WEBHOOK_URL + _SECRET set  → webhook: POST <path of the URL>, 401 on a wrong secret
 *   otherwise                           → long polling from this process (run one such process)
 */
import type { FastifyInstance } from 'fastify';
import { telegramMode, type Config } from '../../config.js';
import type { ChannelAdapter } from '../channel.js';
import type { ChannelIdentity, Inbound } from '../../dialog/types.js';
import type { I18n, Locale } from '../../i18n/index.js';
import type { Logger } from '../../shared/logger.js';
import { createTelegramAdapter, FREE_BROADCAST_RATE } from './adapter.js';
import { createTelegramBot, type TelegramBot } from './bot.js';
import { telegramWebhookRoutes, webhookPath } from './webhook.js';

export { createTelegramAdapter } from './adapter.js';
export { createTelegramBot, type TelegramBot } from './bot.js';
export { telegramToInbound } from './to-inbound.js';

export interface TelegramChannel {
  adapter: ChannelAdapter;
  /** The bot for a process that takes inbound updates. */
  listen(deps: TelegramInboundDeps): TelegramInbound;
}

export interface TelegramInbound {
  bot: TelegramBot;
  /** Public HTTP routes to mount (the webhook, in webhook mode). */
  routes: Array<(app: FastifyInstance) => void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface TelegramChannelDeps {
  config: Config;
  i18n: I18n;
  logger: Logger;
  loadMedia?: (mediaKey: string) => Promise<Buffer | undefined>;
}

export interface TelegramInboundDeps {
  /** The engine's `receive`. */
  receive: (inbound: Inbound) => Promise<unknown>;
  onReachability?: (identity: ChannelIdentity, reachable: boolean) => Promise<void>;
  /** Managers' Telegram chats: their command menu adds /broadcast. */
  managerChats?: () => Promise<Array<{ chatId: string; locale: Locale }>>;
}

/** Undefined when no TELEGRAM_BOT_TOKEN is configured. */
export function createTelegramChannel(deps: TelegramChannelDeps): TelegramChannel | undefined {
  const { config } = deps;
  const mode = telegramMode(config);
  if (mode === 'off' || !config.TELEGRAM_BOT_TOKEN) return undefined;
  const token = config.TELEGRAM_BOT_TOKEN;
  const adapter = createTelegramAdapter({
    token,
    apiRoot: config.TELEGRAM_API_ROOT,
    logger: deps.logger,
    ...(deps.loadMedia ? { loadMedia: deps.loadMedia } : {}),
    // Pacing above the free limit only works with paid broadcasts (Telegram Stars on the bot).
    paidBroadcast: config.TELEGRAM_RATE_PER_SECOND > FREE_BROADCAST_RATE,
  });
  const webhook =
    mode === 'webhook' ? { url: config.TELEGRAM_WEBHOOK_URL!, secret: config.TELEGRAM_WEBHOOK_SECRET! } : undefined;
  const listen = (inbound: TelegramInboundDeps): TelegramInbound => {
    const bot = createTelegramBot({
      token,
      apiRoot: config.TELEGRAM_API_ROOT,
      ...(webhook ? { webhook } : {}),
      defaultLocale: config.DEFAULT_LOCALE,
      i18n: deps.i18n,
      logger: deps.logger,
      receive: inbound.receive,
      ...(inbound.onReachability ? { onReachability: inbound.onReachability } : {}),
      ...(inbound.managerChats ? { managerChats: inbound.managerChats } : {}),
    });
    const routes = webhook ? [telegramWebhookRoutes({ bot: bot.bot, secret: webhook.secret, path: webhookPath(webhook.url) })] : [];
    return { bot, routes, start: () => bot.start(), stop: () => bot.stop() };
  };
  return { adapter, listen };
}
