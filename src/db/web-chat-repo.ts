/**
 * The web chat's own rows: sessions the server issued, the participant's side of the conversation,
 * and the daily photo quota. (The bot's messages are written by the web channel adapter.)
 */
import type { Db } from './sql.js';

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
