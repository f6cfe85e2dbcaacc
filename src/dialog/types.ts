/**
 * The channel-neutral vocabulary of a conversation. Channel adapters translate platform updates
 * into `Inbound` and `Outbound` into platform calls; the engine and the flows see nothing else, so
 * a flow written once runs on Telegram, WhatsApp and the web chat unchanged.
 */
import type { Locale } from '../shared/locale.js';
import type { ChannelId } from '../shared/messages.js';

export {
  CHANNEL_IDS,
  type ChannelAddress,
  type ChannelId,
  type Choice,
  type Outbound,
  type SendResult,
} from '../shared/messages.js';

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
  /**
   * The sender's network address when the channel sees one (the web chat: the client IP, through
   * TRUST_PROXY), so code guessing can be limited per address as well as per participant.
   */
  network?: string;
};

export type { Locale };
