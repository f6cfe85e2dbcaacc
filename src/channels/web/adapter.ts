/**
 * The web chat as a channel: `send` stores the message in Postgres (web_messages) and the page
 * fetches it from /chat/api/messages, so the sender may run in another process than the web server.
 * Photos uploaded from the page are handed to the flows in memory and never stored here.
 */
import { createHash } from 'node:crypto';
import type { Db, Sql } from '../../db/sql.js';
import * as webChat from '../../db/web/web-chat-repo.js';
import type { ChannelAdapter } from '../channel.js';
import { cleanChatText } from '../clean-text.js';
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
  /** `me`: what the participant sent (shown on the right after a reload); absent: the bot's. */
  from?: 'me';
  /** The page's own id of a message the participant sent, so the page that sent it does not show it twice. */
  clientId?: string;
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
      ...(m.from === 'me' ? { from: 'me' as const, ...(r.clientId ? { clientId: r.clientId } : {}) } : {}),
      ...(m.choices ? { choices: m.choices } : {}),
      ...(m.requestPhone ? { requestPhone: m.requestPhone } : {}),
      ...(m.image?.url ? { image: { url: m.image.url } } : m.image?.mediaKey ? { image: { media: webMediaPath(r.id) } } : {}),
      at: r.createdAt.toISOString(),
    };
  });
}

export type WebInput =
  | { kind: 'text'; text: string }
  | { kind: 'choice'; value: string }
  /** The bytes stay in memory: the engine reads them before the message's transaction, and a flow that keeps the photo stores it in the media store. */
  | { kind: 'photo'; ref: string; bytes: Buffer; mimeType: string; caption?: string };

/** Page input → Inbound. A text starting with '/' is a command, as on Telegram. */
export function webToInbound(
  _sql: Sql,
  input: WebInput,
  from: { chatId: string; localeHint?: string; network?: string },
  messageId: string,
  receivedAt = new Date(),
): Inbound {
  const identity: ChannelIdentity = { channel: 'web', externalId: from.chatId, chatId: from.chatId, localeHint: from.localeHint };
  const base = { messageId, from: identity, receivedAt, ...(from.network ? { network: from.network } : {}) };
  if (input.kind === 'choice') return { ...base, kind: 'choice', value: input.value };
  if (input.kind === 'photo') {
    const media: MediaRef = { ref: input.ref, mimeType: input.mimeType, size: input.bytes.length, load: async () => input.bytes };
    const caption = input.caption ? cleanChatText(input.caption) : '';
    return { ...base, kind: 'photo', media, ...(caption ? { caption } : {}) };
  }
  const text = cleanChatText(input.text).trim();
  const command = /^\/([A-Za-z_]+)(?:@\w+)?(?:\s+(.+))?$/s.exec(text);
  if (command) {
    return { ...base, kind: 'command', command: command[1]!.toLowerCase(), ...(command[2] ? { payload: command[2].trim() } : {}) };
  }
  return { ...base, kind: 'text', text };
}
