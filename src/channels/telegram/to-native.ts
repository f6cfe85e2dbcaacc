/**
 * `Outbound` → the Bot API calls that show it. Pure: the adapter executes the calls in order.
 *
 * Markup rules (one reply_markup per Telegram message):
 * - choices → inline keyboard (button presses come back as callback queries → `choice`);
 * - requestPhone → a one-time reply keyboard with a request-contact button; if the message also
 *   has choices, their labels become plain buttons under it (Telegram allows one keyboard per
 *   message, so such a press arrives as the label's text, not as a `choice`);
 * - neither → `remove_keyboard`, so a contact keyboard never outlives the step that asked for it.
 * Long texts are split at line breaks under Telegram's limits; the markup goes on the last part.
 */
import type { ForceReply, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove } from 'grammy/types';
import type { Outbound } from '../../dialog/types.js';

export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;
export const CALLBACK_DATA_LIMIT_BYTES = 64;

type Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply;

export type PhotoSource = { url: string } | { mediaKey: string };

export type TelegramCall =
  | { method: 'sendMessage'; payload: { chat_id: string; text: string; reply_markup?: Markup; allow_paid_broadcast?: boolean } }
  | {
      method: 'sendPhoto';
      payload: { chat_id: string; photo: PhotoSource; caption?: string; reply_markup?: Markup; allow_paid_broadcast?: boolean };
    };

export class OutboundNotRepresentable extends Error {
  override readonly name = 'OutboundNotRepresentable';
}

function markupFor(message: Outbound): Markup {
  const choices = message.choices?.filter((row) => row.length > 0) ?? [];
  for (const choice of choices.flat()) {
    if (Buffer.byteLength(choice.value, 'utf8') > CALLBACK_DATA_LIMIT_BYTES) {
      throw new OutboundNotRepresentable(`choice value longer than ${CALLBACK_DATA_LIMIT_BYTES} bytes: ${choice.value.slice(0, 20)}…`);
    }
  }
  if (message.requestPhone) {
    return {
      keyboard: [
        [{ text: message.requestPhone.label, request_contact: true }],
        ...choices.map((row) => row.map((c) => ({ text: c.label }))),
      ],
      one_time_keyboard: true,
      resize_keyboard: true,
    };
  }
  if (choices.length > 0) {
    return { inline_keyboard: choices.map((row) => row.map((c) => ({ text: c.label, callback_data: c.value }))) };
  }
  return { remove_keyboard: true };
}

/** Splits text into parts of at most `limit` UTF-16 units, preferring paragraph, line, then word breaks. */
export function splitText(text: string, limit = TEXT_LIMIT): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const window = rest.slice(0, limit);
    let cut = Math.max(window.lastIndexOf('\n\n'), window.lastIndexOf('\n'));
    if (cut < limit / 2) cut = window.lastIndexOf(' ');
    if (cut < limit / 2) cut = limit;
    // Never cut a surrogate pair (emoji) in half.
    if (cut === limit && /[\uD800-\uDBFF]/.test(rest.charAt(cut - 1))) cut -= 1;
    parts.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).replace(/^\s+/, '');
  }
  if (rest.length > 0 || parts.length === 0) parts.push(rest);
  return parts;
}

/** The calls that deliver `message` to `chatId`, in order. Throws `OutboundNotRepresentable` on a bug. */
export function outboundToTelegramCalls(chatId: string, message: Outbound): TelegramCall[] {
  const markup = markupFor(message);
  const calls: TelegramCall[] = [];
  let text = message.text;
  const photo: PhotoSource | undefined = message.image?.url
    ? { url: message.image.url }
    : message.image?.mediaKey
      ? { mediaKey: message.image.mediaKey }
      : undefined;
  if (photo) {
    const captioned = text.length <= CAPTION_LIMIT;
    calls.push({
      method: 'sendPhoto',
      payload: {
        chat_id: chatId,
        photo,
        ...(captioned && text ? { caption: text } : {}),
        ...(captioned ? { reply_markup: markup } : {}),
      },
    });
    if (captioned) return calls;
  }
  if (!text.trim()) text = '…';
  const parts = splitText(text);
  parts.forEach((part, i) => {
    calls.push({
      method: 'sendMessage',
      payload: { chat_id: chatId, text: part, ...(i === parts.length - 1 ? { reply_markup: markup } : {}) },
    });
  });
  return calls;
}
