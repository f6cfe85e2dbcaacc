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
import * as sessions from '../../db/whatsapp/sessions-repo.js';

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
      return sessions.sessionExists(db, session);
    },
    async save({ session }) {
      const archive = await readFile(path.join(stagingDir, `${session}.zip`));
      await sessions.saveSession(db, session, archive);
    },
    async extract({ session, path: target }) {
      const archive = await sessions.sessionArchive(db, session);
      if (!archive) return;
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, archive);
    },
    async delete({ session }) {
      await sessions.deleteSession(db, session);
    },
  };
}
