import type { Db } from './sql.js';

/**
 * What tells this deployment's database from any other: the cluster's system identifier (unique per
 * initdb) and the database name. Falls back to the server address when pg_control_system() is not
 * readable (a managed database without the privilege).
 */
export async function databaseIdentity(db: Db): Promise<string> {
  try {
    const [row] = await db<{ id: string }[]>`select (select system_identifier::text from pg_control_system()) || '/' || current_database() as id`;
    if (row?.id) return row.id;
  } catch {
    // not readable: below
  }
  const [row] = await db<{ id: string }[]>`select coalesce(host(inet_server_addr()), 'local') || ':' || current_setting('port') || '/' || current_database() as id`;
  return row!.id;
}
