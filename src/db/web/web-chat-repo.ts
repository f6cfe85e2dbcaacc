/**
 * The web chat's own tables: messages shown on the page (web_messages, the bot's and the
 * participant's own), sessions the server issued, and the daily photo quota. Uploaded photos are
 * no longer kept (web_uploads stays empty; the flow that wants a photo stores it in the media store).
 */
import type { Db } from '../sql.js';
import type { Outbound } from '../../shared/messages.js';

export interface WebMessageRow {
  id: number;
  /** `from: 'me'` on what the participant sent. */
  message: Outbound & { from?: 'me' };
  /** The page's own id of a message the participant sent. */
  clientId: string | null;
  createdAt: Date;
}

export async function insertMessage(db: Db, chatId: string, message: Outbound): Promise<number> {
  const [row] = await db<{ id: number }[]>`
    insert into web_messages (chat_id, message) values (${chatId}, ${db.json(message as never)}) returning id`;
  return row!.id;
}

export async function messageOf(db: Db, chatId: string, messageId: number): Promise<Outbound | undefined> {
  const [row] = await db<{ message: string }[]>`
    select message::text as message from web_messages where id = ${messageId} and chat_id = ${chatId}`;
  return row ? (JSON.parse(row.message) as Outbound) : undefined;
}

export async function messagesAfter(db: Db, chatId: string, afterId: number, limit: number): Promise<WebMessageRow[]> {
  const rows = await db<{ id: number; message: string; clientId: string | null; createdAt: Date }[]>`
    select id, message::text as message, client_id, created_at from web_messages
     where chat_id = ${chatId} and id > ${afterId} order by id limit ${limit}`;
  return rows.map((r) => ({ id: r.id, message: JSON.parse(r.message) as WebMessageRow['message'], clientId: r.clientId, createdAt: r.createdAt }));
}

export async function insertSession(db: Db, chatId: string): Promise<void> {
  await db`insert into web_sessions (chat_id) values (${chatId}) on conflict do nothing`;
}

export async function sessionExists(db: Db, chatId: string): Promise<boolean> {
  const [row] = await db`select 1 from web_sessions where chat_id = ${chatId}`;
  return Boolean(row);
}

/** The registered, active participant behind a web chat, if any. */
export async function registeredParticipantOf(db: Db, chatId: string): Promise<string | undefined> {
  const [row] = await db<{ id: string }[]>`
    select p.id from channel_identities ci join participants p on p.id = ci.participant_id
     where ci.channel = 'web' and ci.external_id = ${chatId} and p.status = 'active' and p.registered_at is not null
     limit 1`;
  return row?.id;
}

/** What the participant sent, once per client id; false when it was stored before (a retry). */
export async function insertOwnMessage(db: Db, chatId: string, clientId: string, message: { text: string; from: 'me' }): Promise<boolean> {
  const rows = await db`
    insert into web_messages (chat_id, client_id, message) values (${chatId}, ${clientId}, ${db.json(message)})
    on conflict (chat_id, client_id) where client_id is not null do nothing returning id`;
  return rows.length > 0;
}

/** Counts one photo of `bytes` against today's quota; false (and nothing counted) when it is used up. */
export async function takePhotoQuota(db: Db, participantId: string, bytes: number, limits: { photos: number; bytes: number }): Promise<boolean> {
  const rows = await db`
    insert into web_photo_quota as q (participant_id, day, photos, bytes) values (${participantId}, current_date, 1, ${bytes})
    on conflict (participant_id, day) do update set photos = q.photos + 1, bytes = q.bytes + excluded.bytes
     where q.photos < ${limits.photos} and q.bytes + excluded.bytes <= ${limits.bytes}
    returning photos`;
  return rows.length > 0 && bytes <= limits.bytes;
}

/** Erasure: everything the web chat keeps of these chats. */
export async function deleteChats(db: Db, chatIds: readonly string[]): Promise<void> {
  if (!chatIds.length) return;
  await db`delete from web_messages where chat_id = any(${chatIds as string[]})`;
  await db`delete from web_uploads where chat_id = any(${chatIds as string[]})`;
}
