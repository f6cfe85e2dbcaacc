/**
 * The Telegram side of Punkto's inbound path: a grammY `Bot` whose only middleware turns an update
 * into an `Inbound` and hands it to the dialog engine. Nothing here decides what to answer.
 *
 * Delivery guarantees:
 * - Long polling (default) runs its own small loop instead of `bot.start()`: grammY's loop confirms
 *   an update (next `offset`) even when its handler failed, which would lose the message. Here the
 *   offset only moves past an update once `receive` committed; a failed update is fetched again
 *   after a backoff. Updates of different chats in one batch run concurrently, each chat's in
 *   order; an update redelivered after a partial batch is dropped by the engine's inbox (stable
 *   message ids, see to-inbound.ts). An update that keeps failing is skipped after
 *   `maxAttemptsPerUpdate` so one poisonous message cannot silence the bot for everyone.
 * - Webhook mode: the route answers only after `receive` committed; an error answers 500 and
 *   Telegram delivers the update again.
 * A handler error never stops polling; network errors back off and retry until `stop()`.
 */
import { autoRetry } from '@grammyjs/auto-retry';
import { Api, Bot, GrammyError, type Context } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';
import type { ChannelIdentity, Inbound } from '../../dialog/types.js';
import type { I18n, Locale } from '../../i18n/index.js';
import type { Logger } from '../../shared/logger.js';
import { createTelegramFiles } from './files.js';
import { telegramToInbound } from './to-inbound.js';
import { createCommandMenus } from './commands.js';
import { handleBatch } from './update-batch.js';

export { BOT_COMMANDS, MANAGER_COMMANDS, commandsFor } from './commands.js';

export const ALLOWED_UPDATES = ['message', 'callback_query', 'my_chat_member'] as const;

export interface TelegramBotDeps {
  token: string;
  /** TELEGRAM_API_ROOT, without a trailing slash. */
  apiRoot: string;
  /** Both set → webhook mode; else long polling. */
  webhook?: { url: string; secret: string };
  defaultLocale: Locale;
  i18n: I18n;
  logger: Logger;
  /** The dialog engine's `receive`: resolves once the message's transaction committed. */
  receive: (inbound: Inbound) => Promise<unknown>;
  /**
   * The participant blocked (`blocked: true`) or unblocked the bot (Telegram `my_chat_member` in a
   * private chat). Lets broadcasts skip them before a send fails with 403.
   */
  onReachability?: (identity: ChannelIdentity, reachable: boolean) => Promise<void>;
  /**
   * Telegram chats of program managers and their language: their command menu also shows
   * /broadcast. Read at start and every `commandsRefreshMs` (a new manager sees it then).
   */
  managerChats?: () => Promise<Array<{ chatId: string; locale: Locale }>>;
  /** Default 10 minutes. */
  commandsRefreshMs?: number;
  /** Skip getMe (tests, or a known bot). */
  botInfo?: UserFromGetMe;
  polling?: {
    /** getUpdates long-poll timeout in seconds (Telegram allows up to 50). */
    timeoutSeconds?: number;
    /** Updates handled at once from different chats. */
    concurrency?: number;
    maxAttemptsPerUpdate?: number;
    /** First retry delay; doubles up to `maxBackoffMs`. */
    backoffMs?: number;
    maxBackoffMs?: number;
  };
}

export interface TelegramBot {
  readonly bot: Bot;
  readonly mode: 'polling' | 'webhook';
  /** Sets commands (and the webhook) and starts polling in the background; resolves once set up. */
  start(): Promise<void>;
  /** Stops polling after the updates in hand are committed; safe to call twice. */
  stop(): Promise<void>;
}

/** grammY's Node build types signals with the abort-controller shim; the runtime takes the native one. */
type ApiSignal = Parameters<Api['getUpdates']>[1];

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

export function createTelegramBot(deps: TelegramBotDeps): TelegramBot {
  const log = deps.logger.child({ channel: 'telegram' });
  const pollTimeout = deps.polling?.timeoutSeconds ?? 30;
  const bot = new Bot(deps.token, {
    ...(deps.botInfo ? { botInfo: deps.botInfo } : {}),
    client: { apiRoot: deps.apiRoot, timeoutSeconds: 30 },
  });
  // Side calls (answerCallbackQuery, setMyCommands, setWebhook) may wait out a short 429; replies
  // go through the adapter, which never sleeps.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 5 }));
  // getUpdates gets its own client: its timeout must outlast the long poll, and aborting it on
  // stop must not be retried by auto-retry.
  const pollApi = new Api(deps.token, { apiRoot: deps.apiRoot, timeoutSeconds: pollTimeout + 15 });
  const files = createTelegramFiles({ api: bot.api, token: deps.token, apiRoot: deps.apiRoot });

  bot.use(async (ctx: Context) => {
    const update = ctx.update;
    try {
      const member = update.my_chat_member;
      if (member && member.chat.type === 'private' && deps.onReachability) {
        const status = member.new_chat_member.status;
        const identity: ChannelIdentity = { channel: 'telegram', externalId: String(member.from.id), chatId: String(member.chat.id) };
        if (status === 'kicked') await deps.onReachability(identity, false);
        else if (status === 'member') await deps.onReachability(identity, true);
        return;
      }
      const inbound = telegramToInbound(update, { loadFile: files.loadFile });
      if (inbound) await deps.receive(inbound);
    } finally {
      // Always stop the button's spinner, even for presses Punkto ignores; a second answer
      // (redelivered update) is refused by Telegram and does not matter.
      if (update.callback_query) {
        await ctx.answerCallbackQuery().catch((error: unknown) => log.debug({ err: error }, 'answerCallbackQuery failed'));
      }
    }
  });

  const mode: TelegramBot['mode'] = deps.webhook ? 'webhook' : 'polling';
  let running = false;
  let abort: AbortController | undefined;
  let loop: Promise<void> | undefined;
  let offset = 0;
  let started: () => void = () => undefined;

  const menus = createCommandMenus({
    api: bot.api,
    i18n: deps.i18n,
    defaultLocale: deps.defaultLocale,
    log,
    ...(deps.managerChats ? { managerChats: deps.managerChats } : {}),
  });

  let refreshTimer: NodeJS.Timeout | undefined;

  /** Retries `task` with backoff until it succeeds or the bot stops; 401 (bad token) is final. */
  async function persist(what: string, task: () => Promise<unknown>): Promise<boolean> {
    let delay = deps.polling?.backoffMs ?? 1000;
    while (running) {
      try {
        await task();
        return true;
      } catch (error) {
        if (!running) return false;
        if (error instanceof GrammyError && error.error_code === 401) {
          log.error({ err: error }, `telegram: ${what} refused: the bot token is invalid`);
          return false;
        }
        // Telegram being away must not hold up the rest of the service: start() returns now
        // and this keeps trying in the background.
        started();
        log.warn({ err: error, retryInMs: delay }, `telegram: ${what} failed`);
        await sleep(delay, abort?.signal);
        delay = Math.min(delay * 2, deps.polling?.maxBackoffMs ?? 60_000);
      }
    }
    return false;
  }

  async function poll(): Promise<void> {
    if (!(await persist('deleteWebhook', () => pollApi.deleteWebhook({}, abort?.signal as ApiSignal)))) return;
    log.info({ mode, bot: bot.botInfo.username }, 'telegram: long polling');
    started();
    const maxAttempts = deps.polling?.maxAttemptsPerUpdate ?? 20;
    const baseBackoff = deps.polling?.backoffMs ?? 1000;
    const maxBackoff = deps.polling?.maxBackoffMs ?? 30_000;
    const unavailableRetryMs = Math.min(baseBackoff, 1000);
    let failures = 0;
    let failingUpdate: number | undefined;
    let attemptsOnUpdate = 0;
    while (running) {
      let updates: Update[];
      try {
        updates = await pollApi.getUpdates(
          { offset, timeout: pollTimeout, allowed_updates: [...ALLOWED_UPDATES] },
          abort?.signal as ApiSignal,
        );
        failures = 0;
      } catch (error) {
        if (!running) break;
        failures += 1;
        const retryAfter = error instanceof GrammyError ? error.parameters?.retry_after : undefined;
        const delay = retryAfter ? retryAfter * 1000 : Math.min(baseBackoff * 2 ** (failures - 1), maxBackoff);
        const fatal = error instanceof GrammyError && error.error_code === 401;
        log[fatal ? 'error' : 'warn']({ err: error, retryInMs: delay }, fatal ? 'telegram: the bot token is invalid' : 'telegram: getUpdates failed');
        await sleep(delay, abort?.signal);
        continue;
      }
      if (updates.length === 0) continue;
      const { failedAt, unavailable } = await handleBatch(updates, (u) => bot.handleUpdate(u), deps.polling?.concurrency ?? 8, log);
      if (failedAt === undefined) {
        offset = updates.at(-1)!.update_id + 1;
        failingUpdate = undefined;
        attemptsOnUpdate = 0;
        continue;
      }
      offset = failedAt;
      if (unavailable) {
        // Not the update's fault: it is never given up for that, and it is tried again every
        // second, so intake resumes within a second or two of the database's return.
        await sleep(unavailableRetryMs, abort?.signal);
        continue;
      }
      attemptsOnUpdate = failedAt === failingUpdate ? attemptsOnUpdate + 1 : 1;
      failingUpdate = failedAt;
      if (attemptsOnUpdate >= maxAttempts) {
        log.error({ updateId: failedAt, attempts: attemptsOnUpdate }, 'telegram: giving up on an update that keeps failing');
        offset = failedAt + 1;
        failingUpdate = undefined;
        attemptsOnUpdate = 0;
        continue;
      }
      offset = failedAt;
      await sleep(Math.min(baseBackoff * 2 ** (attemptsOnUpdate - 1), maxBackoff), abort?.signal);
    }
  }

  return {
    bot,
    mode,
    async start() {
      if (running) return;
      running = true;
      abort = new AbortController();
      const setUp = new Promise<void>((resolve) => {
        started = resolve;
      });
      loop = (async () => {
        // Not bot.init(): it retries network errors forever on its own, and would hold up start().
        const init = async () => {
          bot.botInfo = await pollApi.getMe(abort?.signal as ApiSignal);
        };
        if (!bot.isInited() && !(await persist('getMe', init))) return;
        await menus.setCommands();
        if (deps.managerChats) {
          refreshTimer = setInterval(() => void menus.setManagerCommands(), deps.commandsRefreshMs ?? 600_000);
          refreshTimer.unref();
        }
        if (deps.webhook) {
          const { url, secret } = deps.webhook;
          // The route answers already; this only tells Telegram where to deliver.
          const ok = await persist('setWebhook', () =>
            bot.api.setWebhook(url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES] }),
          );
          if (ok) log.info({ mode, bot: bot.botInfo.username }, 'telegram: webhook set');
          return;
        }
        await poll();
      })()
        .catch((error: unknown) => log.error({ err: error }, 'telegram: bot stopped unexpectedly'))
        .finally(() => started());
      // Resolves once set up (commands, webhook or first poll), or at the first failure to reach
      // Telegram, whichever comes first.
      await setUp;
    },
    async stop() {
      if (!running) return;
      running = false;
      if (refreshTimer) clearInterval(refreshTimer);
      abort?.abort();
      await loop;
      if (mode === 'polling' && offset > 0) {
        // Confirm what was committed, so the next start does not fetch it again (the inbox would
        // drop it anyway).
        await pollApi.getUpdates({ offset, limit: 1, timeout: 0 }).catch(() => undefined);
      }
    },
  };
}
