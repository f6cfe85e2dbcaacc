/**
 * The Telegram `ChannelAdapter`: one `send` = the Bot API calls of `outboundToTelegramCalls`, with
 * every platform answer mapped to a `SendResult`. Its Api has no auto-retry: a 429 comes back at
 * once as `rate_limited` so the outbox sender can pace the whole channel, not just this call.
 */
import { Api, InputFile } from 'grammy';
import type { ChannelAdapter, SendMeta } from '../channel.js';
import type { ChannelAddress, Outbound, SendResult } from '../../dialog/types.js';
import type { Logger } from '../../shared/logger.js';
import { mapTelegramError } from './errors.js';
import { OutboundNotRepresentable, outboundToTelegramCalls, type TelegramCall } from './to-native.js';

export interface TelegramAdapterDeps {
  token: string;
  apiRoot: string;
  logger: Logger;
  /** Bytes of an `image.mediaKey` (receipt thumbnails, reward pictures); without it such images are skipped. */
  loadMedia?: (mediaKey: string) => Promise<Buffer | undefined>;
  /** Per-call timeout; a timed-out send is retried by the sender (at-least-once). */
  timeoutSeconds?: number;
  /** An Api to use instead of building one (tests that install transformers). */
  api?: Api;
  /**
   * Ask for paid broadcasts (`allow_paid_broadcast`) on broadcast sends: set when the configured
   * channel rate is above Telegram's free ~30 messages/s. Each such message costs Telegram Stars
   * from the bot's balance; without a balance Telegram refuses them.
   */
  paidBroadcast?: boolean;
}

/** Telegram's free broadcasting limit, messages per second; above it a bot needs paid broadcasts. */
export const FREE_BROADCAST_RATE = 30;

export function createTelegramApi(token: string, apiRoot: string, timeoutSeconds = 20): Api {
  return new Api(token, { apiRoot, timeoutSeconds });
}

export function createTelegramAdapter(deps: TelegramAdapterDeps): ChannelAdapter {
  const api = deps.api ?? createTelegramApi(deps.token, deps.apiRoot, deps.timeoutSeconds);

  async function execute(call: TelegramCall): Promise<number | undefined> {
    if (call.method === 'sendMessage') {
      const sent = await api.raw.sendMessage(call.payload);
      return sent.message_id;
    }
    const { photo, ...rest } = call.payload;
    let source: string | InputFile;
    if ('url' in photo) source = photo.url;
    else {
      const bytes = await deps.loadMedia?.(photo.mediaKey);
      if (!bytes) {
        // The picture is gone (or there is no media store here): the words still matter.
        deps.logger.warn({ mediaKey: photo.mediaKey }, 'telegram: image not available, sending text only');
        if (!rest.caption) return undefined;
        const sent = await api.raw.sendMessage({
          chat_id: rest.chat_id,
          text: rest.caption,
          ...(rest.reply_markup ? { reply_markup: rest.reply_markup } : {}),
          ...(rest.allow_paid_broadcast ? { allow_paid_broadcast: true } : {}),
        });
        return sent.message_id;
      }
      source = new InputFile(bytes, 'image.jpg');
    }
    const sent = await api.raw.sendPhoto({ ...rest, photo: source });
    return sent.message_id;
  }

  return {
    id: 'telegram',
    async send(to: ChannelAddress, message: Outbound, meta?: SendMeta): Promise<SendResult> {
      let calls: TelegramCall[];
      try {
        calls = outboundToTelegramCalls(to.chatId || to.externalId, message);
        // Only broadcast traffic goes above the free rate; replies stay few and free.
        if (deps.paidBroadcast && meta?.kind === 'broadcast') {
          calls = calls.map((c) => ({ ...c, payload: { ...c.payload, allow_paid_broadcast: true } }) as TelegramCall);
        }
      } catch (error) {
        if (error instanceof OutboundNotRepresentable) return { status: 'failed', reason: error.message, retryable: false };
        throw error;
      }
      let last: number | undefined;
      for (const call of calls) {
        try {
          last = (await execute(call)) ?? last;
        } catch (error) {
          const result = mapTelegramError(error);
          deps.logger.debug({ method: call.method, result: result.status, reason: 'reason' in result ? result.reason : undefined }, 'telegram: send failed');
          return result;
        }
      }
      return last === undefined ? { status: 'sent' } : { status: 'sent', providerMessageId: String(last) };
    },
  };
}
