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
  const displayName = [user.first_name, user.last_name].filter(Boolean).join(' ').trim();
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

/** Service messages (joins, pins, chat photo changes…) are not something a participant "said". */
function isServiceMessage(message: Message): boolean {
  const m = message as unknown as Record<string, unknown>;
  return ['new_chat_members', 'left_chat_member', 'new_chat_title', 'new_chat_photo', 'delete_chat_photo', 'pinned_message', 'group_chat_created', 'migrate_to_chat_id', 'message_auto_delete_timer_changed', 'web_app_data', 'successful_payment', 'users_shared', 'chat_shared', 'write_access_allowed'].some((k) => m[k] !== undefined);
}

function fromMessage(message: Message, options: ToInboundOptions): Inbound | undefined {
  if (message.chat.type !== 'private' || !message.from || message.from.is_bot) return undefined;
  if (isServiceMessage(message)) return undefined;
  return {
    ...messageBody(message, options),
    messageId: `${message.chat.id}:${message.message_id}`,
    from: identity(message.from, message.chat.id),
    receivedAt: new Date(message.date * 1000),
  };
}

function fromCallback(query: CallbackQuery, options: ToInboundOptions): Inbound | undefined {
  const message = query.message;
  // Buttons of inline-mode messages or group messages are outside Punkto's private conversations.
  if (!message || message.chat.type !== 'private' || query.data === undefined) return undefined;
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
  if (update.message) return fromMessage(update.message, options);
  if (update.callback_query) return fromCallback(update.callback_query, options);
  // Edits, channel posts, membership changes, inline queries: nothing a flow answers.
  return undefined;
}
