/**
 * The channel-neutral vocabulary of a conversation. Channel adapters translate platform updates
 * into `Inbound` and `Outbound` into platform calls; the engine and the flows see nothing else, so
 * a flow written once runs on Telegram, WhatsApp and the web chat unchanged.
 */
import type { Locale } from '../i18n/index.js';

export type ChannelId = 'telegram' | 'whatsapp' | 'web';
export const CHANNEL_IDS: readonly ChannelId[] = ['telegram', 'whatsapp', 'web'];

/** Who wrote, as the channel knows them. */
export interface ChannelIdentity {
  channel: ChannelId;
  /** Stable user id on the channel: Telegram user id, WhatsApp phone digits, web-chat session id. */
  externalId: string;
  /** Where replies go (Telegram chat id, WhatsApp `…@c.us`, web session); defaults to externalId. */
  chatId?: string;
  displayName?: string;
  /** Language hint from the platform (Telegram `language_code`, browser `Accept-Language`). */
  localeHint?: string;
  /** A phone number the channel itself vouches for (WhatsApp sender), in E.164 with '+'. */
  verifiedPhone?: string;
}

/** A photo or image file: loaded only when a flow needs the bytes. */
export interface MediaRef {
  /** The channel's own reference (Telegram file_id, WhatsApp message id, web upload id). */
  ref: string;
  mimeType?: string;
  /** Size in bytes when the channel tells it up front (Telegram, web). */
  size?: number;
  fileName?: string;
  load(): Promise<Buffer>;
}

export type UnsupportedKind = 'location' | 'audio' | 'voice' | 'sticker' | 'video' | 'document' | 'other';

export type InboundBody =
  | { kind: 'text'; text: string }
  /** `/start abc` → { command: 'start', payload: 'abc' } (lower-case command, no slash). */
  | { kind: 'command'; command: string; payload?: string }
  | { kind: 'photo'; media: MediaRef; caption?: string }
  /** A shared contact; `own` is true only when the channel proves it is the sender's own number. */
  | { kind: 'contact'; phone: string; own: boolean }
  /** A button press / menu pick: the `value` of a `Choice` this service sent. */
  | { kind: 'choice'; value: string }
  | { kind: 'unsupported'; what: UnsupportedKind };

export type Inbound = InboundBody & {
  /** Unique per channel: a second delivery with the same id is acknowledged and ignored. */
  messageId: string;
  from: ChannelIdentity;
  receivedAt: Date;
};

export interface Choice {
  label: string;
  /** Opaque to channels: `menu:balance`, `lang:pt`, `reward:<id>`… at most 64 bytes (Telegram). */
  value: string;
}

export interface Outbound {
  text: string;
  /** Rows of choices: inline keyboard on Telegram, numbered menu on WhatsApp, buttons on the web. */
  choices?: Choice[][];
  /** Ask for the phone number (Telegram request-contact keyboard; typed number elsewhere). */
  requestPhone?: { label: string };
  /** An image to send with the text as caption: a URL the channel can fetch, or a media-store key. */
  image?: { url?: string; mediaKey?: string };
}

/** Where a message goes, as stored in the outbox. */
export interface ChannelAddress {
  channel: ChannelId;
  externalId: string;
  chatId: string;
}

export type SendResult =
  | { status: 'sent'; providerMessageId?: string }
  /** Platform rate limit (Telegram 429): retry after this long, without counting an attempt. */
  | { status: 'rate_limited'; retryAfterMs: number }
  /** The user blocked the bot / is gone (Telegram 403): never retry, mark unreachable. */
  | { status: 'unreachable'; reason: string }
  | { status: 'failed'; reason: string; retryable: boolean };

export type { Locale };
