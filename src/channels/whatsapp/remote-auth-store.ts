/**
 * A RemoteAuth store kept in Postgres (table whatsapp_sessions), so the linked WhatsApp device
 * follows the database rather than one container's disk.
 *
 * whatsapp-web.js's RemoteAuth zips the browser profile to `<dataPath>/<session>.zip` and then calls
 * `save({session})`; on start it calls `extract({session, path})` and unzips what we wrote there.
 * The zip path is derived from the same dataPath the client factory uses.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Db } from '../../db/sql.js';

export interface PostgresSessionStore {
  sessionExists(options: { session: string }): Promise<boolean>;
  save(options: { session: string }): Promise<void>;
  extract(options: { session: string; path: string }): Promise<void>;
  delete(options: { session: string }): Promise<void>;
}

export function createPostgresSessionStore(db: Db, dataDir: string): PostgresSessionStore {
  const stagingDir = path.resolve(dataDir, 'whatsapp');
  return {
    async sessionExists({ session }) {
      const rows = await db`select 1 from whatsapp_sessions where session = ${session}`;
      return rows.length > 0;
    },
    async save({ session }) {
      const archive = await readFile(path.join(stagingDir, `${session}.zip`));
      await db`
        insert into whatsapp_sessions (session, archive, saved_at) values (${session}, ${archive}, now())
        on conflict (session) do update set archive = excluded.archive, saved_at = now()`;
    },
    async extract({ session, path: target }) {
      const [row] = await db<{ archive: Buffer }[]>`select archive from whatsapp_sessions where session = ${session}`;
      if (!row) return;
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, row.archive);
    },
    async delete({ session }) {
      await db`delete from whatsapp_sessions where session = ${session}`;
    },
  };
}
