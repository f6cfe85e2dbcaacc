/**
 * The web chat as a channel: `send` stores the message in Postgres (web_messages) and the page
 * fetches it from /chat/api/messages, so the sender may run in another process than the web server.
 * Photos uploaded from the page are kept in web_uploads until the flows have read them.
 */
import { createHash } from 'node:crypto';
import type { Db, Sql } from '../../db/sql.js';
import * as webChat from '../../db/web/web-chat-repo.js';
import type { ChannelAdapter } from '../channel.js';
import type { ChannelAddress, ChannelIdentity, Inbound, MediaRef, Outbound, SendResult } from '../../dialog/types.js';

/** A web chat message as the page sees it. */
export interface WebMessage {
  id: number;
  text: string;
  choices?: Outbound['choices'];
  requestPhone?: Outbound['requestPhone'];
  /**
   * `url`: a public picture. `media`: a stored photo (a receipt on a moderator's card), fetched
   * from that path with the session header: only this chat may read it.
   */
  image?: { url?: string; media?: string };
  at: string;
}

export const webMediaPath = (messageId: number): string => `/chat/api/media/${messageId}`;

/** The stored photo a message of this chat shows, if any: what the chat's session may download. */
export async function webMessageMediaKey(db: Db, chatId: string, messageId: number): Promise<string | undefined> {
  return (await webChat.messageOf(db, chatId, messageId))?.image?.mediaKey;
}

export function createWebAdapter(deps: { sql: Sql }): ChannelAdapter {
  return {
    id: 'web',
    async send(to: ChannelAddress, message: Outbound): Promise<SendResult> {
      try {
        const id = await webChat.insertMessage(deps.sql, to.chatId, message);
        return { status: 'sent', providerMessageId: String(id) };
      } catch (error) {
        return { status: 'failed', reason: (error as Error).message, retryable: true };
      }
    },
  };
}

/** The chat id of a session: a hash, so the session token itself is never stored. */
export const webChatId = (sessionToken: string): string =>
  `w${createHash('sha256').update(sessionToken).digest('hex').slice(0, 32)}`;

export async function webMessagesAfter(db: Db, chatId: string, after: number, limit = 50): Promise<WebMessage[]> {
  const rows = await webChat.messagesAfter(db, chatId, after, limit);
  return rows.map((r) => {
    const m = r.message;
    return {
      id: r.id,
      text: m.text,
      ...(m.choices ? { choices: m.choices } : {}),
      ...(m.requestPhone ? { requestPhone: m.requestPhone } : {}),
      ...(m.image?.url ? { image: { url: m.image.url } } : m.image?.mediaKey ? { image: { media: webMediaPath(r.id) } } : {}),
      at: r.createdAt.toISOString(),
    };
  });
}

export async function storeWebUpload(db: Db, chatId: string, mimeType: string, bytes: Buffer): Promise<string> {
  return webChat.insertUpload(db, chatId, mimeType, bytes);
}

export async function loadWebUpload(db: Db, id: string): Promise<Buffer | undefined> {
  return webChat.uploadBytes(db, id);
}

export type WebInput =
  | { kind: 'text'; text: string }
  | { kind: 'choice'; value: string }
  | { kind: 'photo'; uploadId: string; mimeType: string; size: number; caption?: string };

/** Page input → Inbound. A text starting with '/' is a command, as on Telegram. */
export function webToInbound(
  sql: Sql,
  input: WebInput,
  from: { chatId: string; localeHint?: string },
  messageId: string,
  receivedAt = new Date(),
): Inbound {
  const identity: ChannelIdentity = { channel: 'web', externalId: from.chatId, chatId: from.chatId, localeHint: from.localeHint };
  const base = { messageId, from: identity, receivedAt };
  if (input.kind === 'choice') return { ...base, kind: 'choice', value: input.value };
  if (input.kind === 'photo') {
    const media: MediaRef = {
      ref: input.uploadId,
      mimeType: input.mimeType,
      size: input.size,
      load: async () => {
        const bytes = await loadWebUpload(sql, input.uploadId);
        if (!bytes) throw new Error(`web upload ${input.uploadId} is gone`);
        return bytes;
      },
    };
    return { ...base, kind: 'photo', media, ...(input.caption ? { caption: input.caption } : {}) };
  }
  const text = input.text.trim();
  const command = /^\/([A-Za-z_]+)(?:@\w+)?(?:\s+(.+))?$/s.exec(text);
  if (command) {
    return { ...base, kind: 'command', command: command[1]!.toLowerCase(), ...(command[2] ? { payload: command[2].trim() } : {}) };
  }
  return { ...base, kind: 'text', text };
}
