/** The web chat's own tables: messages shown on the page (web_messages) and uploads (web_uploads). */
import type { Db } from '../sql.js';
import type { Outbound } from '../../shared/messages.js';

export interface WebMessageRow {
  id: number;
  message: Outbound;
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
  const rows = await db<{ id: number; message: string; createdAt: Date }[]>`
    select id, message::text as message, created_at from web_messages
     where chat_id = ${chatId} and id > ${afterId} order by id limit ${limit}`;
  return rows.map((r) => ({ id: r.id, message: JSON.parse(r.message) as Outbound, createdAt: r.createdAt }));
}

export async function insertUpload(db: Db, chatId: string, mimeType: string, bytes: Buffer): Promise<string> {
  const [row] = await db<{ id: string }[]>`
    insert into web_uploads (chat_id, mime_type, bytes) values (${chatId}, ${mimeType}, ${bytes}) returning id`;
  return row!.id;
}

export async function uploadBytes(db: Db, id: string): Promise<Buffer | undefined> {
  const [row] = await db<{ bytes: Buffer }[]>`select bytes from web_uploads where id = ${id}`;
  return row?.bytes;
}

/** Erasure: everything the web chat keeps of these chats. */
export async function deleteChats(db: Db, chatIds: readonly string[]): Promise<void> {
  if (!chatIds.length) return;
  await db`delete from web_messages where chat_id = any(${chatIds as string[]})`;
  await db`delete from web_uploads where chat_id = any(${chatIds as string[]})`;
}
