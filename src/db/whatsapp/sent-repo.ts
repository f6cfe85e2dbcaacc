/** whatsapp_sent: the WhatsApp process's sends by the sender's message key. */
import type { Db } from '../sql.js';

export async function findSent(db: Db, key: string): Promise<{ providerMessageId: string | null } | undefined> {
  const [row] = await db<{ providerMessageId: string | null }[]>`select provider_message_id from whatsapp_sent where key = ${key}`;
  return row;
}

export async function recordSent(db: Db, key: string, providerMessageId: string | undefined): Promise<void> {
  await db`insert into whatsapp_sent (key, provider_message_id) values (${key}, ${providerMessageId ?? null}) on conflict (key) do nothing`;
}

export async function pruneSent(db: Db, days: number): Promise<number> {
  const rows = await db`delete from whatsapp_sent where sent_at < now() - make_interval(days => ${days}) returning 1`;
  return rows.length;
}
