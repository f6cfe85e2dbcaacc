/**
 * Channel-neutral message shapes shared by every layer: what a reply looks like (`Outbound`), where it
 * goes (`ChannelAddress`) and how a send ended (`SendResult`). They live in shared because the outbox
 * repository, broadcast rules and services store and build them, and those layers sit below dialog.
 * src/dialog/types.ts re-exports them with the rest of the conversation vocabulary.
 */

export type ChannelId = 'telegram' | 'whatsapp' | 'web';
export const CHANNEL_IDS: readonly ChannelId[] = ['telegram', 'whatsapp', 'web'];

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
  /**
   * `'free'`: the participant answers this in their own words (a quantity, an address, an amount).
   * A channel that turns typed numbers into choices (WhatsApp's numbered menus) must not do so for
   * this message: "1" is the answer. Its choices are still picked by tapping or by their label.
   */
  answer?: 'free';
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
