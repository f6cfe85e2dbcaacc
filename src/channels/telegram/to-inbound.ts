/**
 * Telegram update → channel-neutral `Inbound`. Pure apart from the photo loader it is handed: no
 * grammY objects, no network until a flow calls `media.load()`.
 *
 * Message ids are built from the chat and the platform's own message/callback id, never from
 * `update_id`, so the same update delivered twice (webhook retry, polling after a crash) yields the
 * same id and the engine's inbox drops the second copy.
 */
import type { CallbackQuery, Message, PhotoSize, Update, User } from 'grammy/types';
import type { ChannelIdentity, Inbound, InboundBody, MediaRef } from '../../dialog/types.js';
import { cleanBody, cleanChatText } from '../clean-text.js';

/** The Bot API refuses to hand bots files above 20 MB (getFile), so such a photo cannot be read. */
export const TELEGRAM_DOWNLOAD_LIMIT_BYTES = 20 * 1024 * 1024;

export interface ToInboundOptions {
  /** Downloads a file by `file_id` (getFile + `/file/bot<token>/<path>`); see `createTelegramFiles`. */
  loadFile: (fileId: string) => Promise<Buffer>;
  /** Receive time for updates that carry no date (callback queries). */
  now?: () => Date;
}

/** `/start`, `/start@PunktoBot abc`: Telegram commands are 1–32 of [A-Za-z0-9_]. */
const COMMAND = /^\/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/;

/** Telegram sends a contact's number with or without '+', sometimes with spaces: keep E.164. */
export function normalizeTelegramPhone(raw: string): string {
  const digits = raw.replace(/\D/g, '');
  return `+${digits}`;
}

export function parseCommand(text: string): { command: string; payload?: string } | undefined {
  const match = COMMAND.exec(text.trim());
  if (!match) return undefined;
  const payload = match[2]?.trim();
  return payload ? { command: match[1]!.toLowerCase(), payload } : { command: match[1]!.toLowerCase() };
}

function identity(user: User, chatId: number): ChannelIdentity {
  const displayName = cleanChatText([user.first_name, user.last_name].filter((x) => typeof x === 'string').join(' ')).trim();
  return {
    channel: 'telegram',
    externalId: String(user.id),
    chatId: String(chatId),
    ...(displayName ? { displayName } : {}),
    ...(user.language_code ? { localeHint: user.language_code } : {}),
  };
}

/**
 * A file over the Bot API's download limit still arrives as a photo, with its size: the flow that
 * wanted it says "too large, send a smaller one" in its own words. Its `load()` refuses at once
 * instead of asking Telegram for what it will not hand out.
 */
function media(fileId: string, loadFile: ToInboundOptions['loadFile'], extra: Omit<MediaRef, 'ref' | 'load'>): MediaRef {
  const tooLarge = extra.size !== undefined && extra.size > TELEGRAM_DOWNLOAD_LIMIT_BYTES;
  return {
    ref: fileId,
    ...extra,
    load: tooLarge
      ? () => Promise.reject(new RangeError(`file of ${extra.size} bytes is over Telegram's download limit`))
      : () => loadFile(fileId),
  };
}

function largest(sizes: PhotoSize[]): PhotoSize | undefined {
  // Telegram lists sizes small to large, but rank by area to be safe against reordering.
  return [...sizes].sort((a, b) => a.width * a.height - b.width * b.height || (a.file_size ?? 0) - (b.file_size ?? 0)).at(-1);
}

function messageBody(message: Message, options: ToInboundOptions): InboundBody {
  if (message.text !== undefined) {
    const command = parseCommand(message.text);
    return command ? { kind: 'command', ...command } : { kind: 'text', text: message.text };
  }
  const caption = message.caption?.trim() ? { caption: message.caption } : {};
  if (message.photo?.length) {
    const photo = largest(message.photo)!;
    return {
      kind: 'photo',
      media: media(photo.file_id, options.loadFile, {
        mimeType: 'image/jpeg',
        ...(photo.file_size !== undefined ? { size: photo.file_size } : {}),
      }),
      ...caption,
    };
  }
  if (message.document) {
    const doc = message.document;
    // A receipt sent "as a file" keeps full resolution: treat image documents as photos.
    if (!doc.mime_type?.startsWith('image/')) return { kind: 'unsupported', what: 'document' };
    return {
      kind: 'photo',
      media: media(doc.file_id, options.loadFile, {
        mimeType: doc.mime_type,
        ...(doc.file_size !== undefined ? { size: doc.file_size } : {}),
        ...(doc.file_name ? { fileName: doc.file_name } : {}),
      }),
      ...caption,
    };
  }
  if (message.contact) {
    return {
      kind: 'contact',
      phone: normalizeTelegramPhone(message.contact.phone_number),
      // Only a contact card carrying the sender's own user id proves the number is theirs;
      // a forwarded card of someone else (or one without user_id) does not.
      own: message.contact.user_id !== undefined && message.contact.user_id === message.from?.id,
    };
  }
  if (message.location || message.venue) return { kind: 'unsupported', what: 'location' };
  if (message.voice || message.video_note) return { kind: 'unsupported', what: 'voice' };
  if (message.audio) return { kind: 'unsupported', what: 'audio' };
  if (message.sticker) return { kind: 'unsupported', what: 'sticker' };
  if (message.video || message.animation) return { kind: 'unsupported', what: 'video' };
  return { kind: 'unsupported', what: 'other' };
}

/**
 * What a person can send in a private chat. A message carrying none of these is a service message
 * (joins, pins, chat_background_set, refunded_payment, gifts, forum topics…, including kinds added
 * to the Bot API after this was written): nothing a participant "said", so it is ignored silently.
 */
const CONTENT_KEYS = ['text', 'caption', 'photo', 'document', 'contact', 'location', 'venue', 'voice', 'video_note', 'audio', 'sticker', 'video', 'animation', 'dice', 'poll', 'story', 'paid_media', 'game', 'checklist'];

function isServiceMessage(message: Message): boolean {
  const m = message as unknown as Record<string, unknown>;
  return !CONTENT_KEYS.some((k) => m[k] !== undefined && m[k] !== null);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isUser = (v: unknown): v is User => isObject(v) && typeof v.id === 'number' && typeof v.first_name === 'string';

/**
 * A well-formed update with a valid secret can still be wrong (a message without `chat`, `text:
 * null`): such an update is dropped, not answered 500 (Telegram would deliver it again and again).
 */
function isUsableMessage(message: unknown): message is Message {
  if (!isObject(message) || !isObject(message.chat) || typeof message.chat.id !== 'number' || typeof message.chat.type !== 'string') return false;
  if (typeof message.message_id !== 'number' || typeof message.date !== 'number' || !isUser(message.from)) return false;
  for (const key of ['text', 'caption'] as const) if (message[key] !== undefined && typeof message[key] !== 'string') return false;
  for (const key of ['photo'] as const) if (message[key] !== undefined && !Array.isArray(message[key])) return false;
  return true;
}

function fromMessage(message: Message, options: ToInboundOptions): Inbound | undefined {
  if (!isUsableMessage(message)) return undefined;
  if (message.chat.type !== 'private' || message.from!.is_bot) return undefined;
  if (isServiceMessage(message)) return undefined;
  const body = messageBody(message, options);
  return {
    ...cleanBody(body),
    messageId: `${message.chat.id}:${message.message_id}`,
    from: identity(message.from!, message.chat.id),
    receivedAt: new Date(message.date * 1000),
  };
}

function fromCallback(query: CallbackQuery, options: ToInboundOptions): Inbound | undefined {
  const message = query.message;
  // Buttons of inline-mode messages or group messages are outside Punkto's private conversations.
  if (!isObject(query) || typeof query.id !== 'string' || !isUser(query.from) || typeof query.data !== 'string') return undefined;
  // The message under a button is the bot's own (or an inaccessible one): only its chat matters.
  if (!isObject(message) || !isObject(message.chat) || typeof message.chat.id !== 'number' || message.chat.type !== 'private') return undefined;
  return {
    kind: 'choice',
    value: query.data,
    messageId: `cb:${query.id}`,
    from: identity(query.from, message.chat.id),
    receivedAt: options.now?.() ?? new Date(),
  };
}

/** The update as an `Inbound`, or `undefined` when it is none of Punkto's business. */
export function telegramToInbound(update: Update, options: ToInboundOptions): Inbound | undefined {
  if (!isObject(update)) return undefined;
  if (update.message) return fromMessage(update.message, options);
  if (update.callback_query) return fromCallback(update.callback_query, options);
  // Edits, channel posts, membership changes, inline queries: nothing a flow answers.
  return undefined;
}
