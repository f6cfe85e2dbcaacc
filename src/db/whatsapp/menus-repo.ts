/** whatsapp_menus: the last numbered menu sent to each chat. */
import type { Db } from '../sql.js';

export interface StoredOption {
  label: string;
  value: string;
}

export async function deleteMenu(db: Db, externalId: string): Promise<void> {
  await db`delete from whatsapp_menus where external_id = ${externalId}`;
}

export async function saveMenu(db: Db, externalId: string, options: StoredOption[]): Promise<void> {
  await db`
    insert into whatsapp_menus (external_id, options, sent_at)
    values (${externalId}, ${db.json(options as never)}, now())
    on conflict (external_id) do update set options = excluded.options, sent_at = excluded.sent_at`;
}

export async function menuOf(db: Db, externalId: string): Promise<{ options: StoredOption[]; sentAt: Date } | undefined> {
  const [row] = await db<{ options: StoredOption[]; sentAt: Date }[]>`
    select options, sent_at from whatsapp_menus where external_id = ${externalId}`;
  return row;
}
