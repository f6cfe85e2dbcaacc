/** whatsapp_sessions: the linked device's RemoteAuth archive. */
import type { Db } from '../sql.js';

export async function sessionExists(db: Db, session: string): Promise<boolean> {
  const rows = await db`select 1 from whatsapp_sessions where session = ${session}`;
  return rows.length > 0;
}

export async function saveSession(db: Db, session: string, archive: Buffer): Promise<void> {
  await db`
    insert into whatsapp_sessions (session, archive, saved_at) values (${session}, ${archive}, now())
    on conflict (session) do update set archive = excluded.archive, saved_at = now()`;
}

export async function sessionArchive(db: Db, session: string): Promise<Buffer | undefined> {
  const [row] = await db<{ archive: Buffer }[]>`select archive from whatsapp_sessions where session = ${session}`;
  return row?.archive;
}

export async function deleteSession(db: Db, session: string): Promise<void> {
  await db`delete from whatsapp_sessions where session = ${session}`;
}
