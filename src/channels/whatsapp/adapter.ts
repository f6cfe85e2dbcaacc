/**
 * The WhatsApp `ChannelAdapter`: turns an `Outbound` into paced whatsapp-web.js sends, and every
 * incoming message into an `Inbound` for the dialog engine. Nothing here decides what to answer.
 */
import type { ChannelAdapter, SendMeta } from '../channel.js';
import type { ChannelAddress, Inbound, Outbound, SendResult } from '../../dialog/types.js';
import { localeFromPhone, type I18n, type Locale } from '../../i18n/index.js';
import type { Logger } from '../../shared/logger.js';
import { digitsOfJid, jidKind, userJid } from './identity.js';
import type { MenuStore } from './menus.js';
import type { Admission, Pacer, SendKind } from './pacing.js';
import type { WhatsAppSession } from './session.js';
import { ignoreReason, whatsappToInbound } from './to-inbound.js';
import { whatsappToNative, type WaPart } from './to-native.js';
import type { WaClient, WaClientFactory, WaMedia, WaMessage } from './wa-client.js';
import { imageLoader, type ImageLoader } from './images.js';
import type { LidStore } from './lids.js';
import type { SentLedger } from './sent-ledger.js';
import { backoff } from '../../shared/retry.js';

/** The dialog engine as the adapter needs it (B's `DialogEngine` fits). */
export interface InboundSink {
  receive(inbound: Inbound): Promise<unknown>;
}

export interface WhatsAppAdapterDeps {
  session: WhatsAppSession;
  factory: Pick<WaClientFactory, 'media'>;
  menus: MenuStore;
  /** Sends by message key: a message handed over again is not sent twice. */
  sent: SentLedger;
  /** Stable identities of `…@lid` senders. */
  lids: LidStore;
  pacer: Pacer;
  i18n: I18n;
  defaultLocale: Locale;
  logger: Logger;
  /** The participant's language for the adapter's own words ("reply with the number"). */
  localeOf?(to: ChannelAddress): Promise<Locale | undefined>;
  /** Bytes of an `Outbound.image`: a media-store key or a URL (default: URLs only). */
  loadImage?: ImageLoader;
  /** How long a send waits while the client is not connected (default NOT_CONNECTED_RETRY_MS). */
  notConnectedRetryMs?: number;
}

/**
 * Extra facts a sender may pass: broadcasts count against their share of the daily cap; a `key`
 * (`outbox:<id>`) makes the send happen once however often the message is handed over.
 */
export type WhatsAppSendMeta = SendMeta;

/**
 * A `SendResult` that also says what a `rate_limited` holds back: `channel` (not connected, the
 * pace, the whole daily cap: nothing else can go either) or `message` (this broadcast used up the
 * broadcast share of the cap: replies still go). The whatsapp-out worker pauses the queue only
 * for `channel`.
 */
export type WhatsAppSendResult = Exclude<SendResult, { status: 'rate_limited' }> | { status: 'rate_limited'; retryAfterMs: number; scope: 'channel' | 'message' };

const RECEIVE_ATTEMPTS = 5;

/** While the client is not connected, sends come back later without spending an attempt. */
export const NOT_CONNECTED_RETRY_MS = 30_000;

export interface WhatsAppAdapter extends ChannelAdapter {
  send(to: ChannelAddress, message: Outbound, meta?: WhatsAppSendMeta): Promise<WhatsAppSendResult>;
  /** Feeds one whatsapp-web.js message to the engine (the session calls this). */
  handleIncoming(message: WaMessage, client: WaClient, sink: InboundSink): Promise<'handled' | 'ignored'>;
}

export function createWhatsAppAdapter(deps: WhatsAppAdapterDeps): WhatsAppAdapter {
  const log = deps.logger.child({ channel: 'whatsapp' });
  const laterMs = deps.notConnectedRetryMs ?? NOT_CONNECTED_RETRY_MS;

  async function localeFor(to: ChannelAddress): Promise<Locale> {
    const chosen = await deps.localeOf?.(to).catch(() => undefined);
    return chosen ?? localeFromPhone(to.externalId) ?? deps.defaultLocale;
  }

  const loadImage = deps.loadImage ?? imageLoader(async () => null);
  // One send per key at a time in this process (the only one holding the WhatsApp session).
  const inFlight = new Map<string, Promise<WhatsAppSendResult>>();
  let lastPrune = 0;

  /**
   * Everything is prepared before the first part goes out, so a retry never repeats half a message.
   * An image that cannot be loaded is left out: the participant still gets the text.
   */
  async function prepare(parts: WaPart[]): Promise<Array<{ content: string | WaMedia; caption?: string }>> {
    const ready: Array<{ content: string | WaMedia; caption?: string }> = [];
    for (const part of parts) {
      if (part.kind === 'text') {
        ready.push({ content: part.text });
        continue;
      }
      try {
        const bytes = await loadImage(part.image);
        ready.push({ content: deps.factory.media(bytes.mimeType, bytes.data, bytes.fileName), ...(part.caption ? { caption: part.caption } : {}) });
      } catch (error) {
        log.warn({ err: error }, 'whatsapp image not available; sending the text alone');
        if (part.caption) ready.push({ content: part.caption });
      }
    }
    return ready;
  }

  async function sendParts(client: WaClient, chatId: string, parts: Array<{ content: string | WaMedia; caption?: string }>): Promise<string | undefined> {
    let lastId: string | undefined;
    for (const part of parts) {
      const options = typeof part.content === 'string' ? { linkPreview: false } : part.caption ? { caption: part.caption } : {};
      lastId = (await client.sendMessage(chatId, part.content, options)).id._serialized;
    }
    return lastId;
  }

  async function sendNow(to: ChannelAddress, message: Outbound, meta: WhatsAppSendMeta | undefined): Promise<WhatsAppSendResult> {
    const client = deps.session.readyClient();
    if (!client) return { status: 'rate_limited', retryAfterMs: laterMs, scope: 'channel' };
    const chatId = to.chatId && jidKind(to.chatId) !== 'other' ? to.chatId : userJid(to.externalId);
    const native = whatsappToNative(message, deps.i18n.t(await localeFor(to)));
    const kind: SendKind = meta?.kind === 'broadcast' ? 'broadcast' : 'reply';
    let outcome: Admission<string | undefined>;
    try {
      const parts = await prepare(native.parts);
      outcome = await deps.pacer.run(kind, async () => {
        // Remembered before sending: the answer to a menu can arrive before sendMessage returns.
        await deps.menus.remember(to.externalId, native.menu);
        const live = deps.session.readyClient();
        if (!live) throw new NotConnected();
        return sendParts(live, chatId, parts);
      });
    } catch (error) {
      return mapSendError(error, log, laterMs);
    }
    if (!outcome.admitted) {
      // Only a broadcast turned away by its share of the cap is held back alone; replies still go.
      const scope = kind === 'broadcast' && outcome.why === 'daily_cap' ? 'message' : 'channel';
      return { status: 'rate_limited', retryAfterMs: outcome.retryAfterMs, scope };
    }
    const providerMessageId = outcome.result;
    if (meta?.key) {
      await deps.sent.record(meta.key, providerMessageId).catch((error: unknown) =>
        log.error({ err: error }, 'whatsapp send not recorded; a re-send of this message would repeat it'),
      );
    }
    return { status: 'sent', ...(providerMessageId ? { providerMessageId } : {}) };
  }

  return {
    id: 'whatsapp',

    async send(to, message, meta) {
      const key = meta?.key;
      if (!key) return sendNow(to, message, meta);
      const running = inFlight.get(key);
      if (running) return running;
      const attempt = (async (): Promise<WhatsAppSendResult> => {
        if (Date.now() - lastPrune > 3_600_000) {
          lastPrune = Date.now();
          void deps.sent.prune().catch((error: unknown) => log.warn({ err: error }, 'whatsapp sent-ledger prune failed'));
        }
        let earlier: Awaited<ReturnType<SentLedger['find']>>;
        try {
          earlier = await deps.sent.find(key);
        } catch (error) {
          return { status: 'failed', reason: `sent ledger not readable: ${(error as Error).message}`, retryable: true };
        }
        if (earlier) return { status: 'sent', ...(earlier.providerMessageId ? { providerMessageId: earlier.providerMessageId } : {}) };
        return sendNow(to, message, meta);
      })();
      inFlight.set(key, attempt);
      try {
        return await attempt;
      } finally {
        inFlight.delete(key);
      }
    },

    async handleIncoming(message, client, sink) {
      if (ignoreReason(message)) {
        log.debug({ reason: ignoreReason(message), type: message.type }, 'whatsapp message ignored');
        return 'ignored';
      }
      // WhatsApp Web never re-delivers a message, so a database hiccup (the lid and menu lookups,
      // the engine) is waited out here; the engine's inbox makes a repeated attempt harmless.
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await whatsappToInbound(message, {
            identifyLid: (lid) => deps.lids.identify(lid, async () => (await resolveLid(client, lid)) ?? (await contactNumber(message, lid))),
            currentMenu: (externalId) => deps.menus.current(externalId),
          });
          if (result.kind === 'ignored') return 'ignored';
          await sink.receive(result.inbound);
          return 'handled';
        } catch (error) {
          if (attempt >= RECEIVE_ATTEMPTS) throw error;
          log.warn({ err: error, attempt }, 'whatsapp message not accepted yet; retrying');
          await backoff(attempt, { baseMs: 500, jitter: false });
        }
      }
    },
  };
}

class NotConnected extends Error {}

async function contactNumber(message: WaMessage, lid: string): Promise<string | undefined> {
  try {
    const digits = (await message.getContact?.())?.number?.replace(/\D/g, '');
    // A contact known only by its lid reports the lid's digits as its "number": not a phone.
    if (digits === digitsOfJid(lid)) return undefined;
    return digits && digits.length >= 6 ? digits : undefined;
  } catch {
    return undefined;
  }
}

/** The phone digits behind a `…@lid` sender: the library's lookup first, then the contact's number. */
async function resolveLid(client: WaClient, lid: string): Promise<string | undefined> {
  try {
    const [pair] = (await client.getContactLidAndPhone?.([lid])) ?? [];
    if (pair?.pn && jidKind(pair.pn) === 'user') return pair.pn.slice(0, pair.pn.indexOf('@')).split(':')[0];
  } catch {
    // fall through to the contact
  }
  return undefined;
}

function mapSendError(error: unknown, log: Logger, laterMs: number): WhatsAppSendResult {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof NotConnected || /Session closed|Target closed|detached Frame|Protocol error|Execution context was destroyed/i.test(message)) {
    return { status: 'rate_limited', retryAfterMs: laterMs, scope: 'channel' };
  }
  if (/invalid wid|not a (valid|registered)|No LID for user|wid error/i.test(message)) {
    return { status: 'unreachable', reason: 'not on WhatsApp' };
  }
  log.warn({ err: error }, 'whatsapp send failed');
  return { status: 'failed', reason: message.slice(0, 200), retryable: true };
}
