import type { Db } from './sql.js';

/**
 * One entry of the audit trail (who did what to which thing), written on the `db` of the act itself
 * so the entry commits or rolls back with it.
 */
export async function audit(db: Db, actor: string, action: string, target: string, details: object = {}): Promise<void> {
  await db`insert into audit_log (actor, action, target, details) values (${actor}, ${action}, ${target}, ${db.json(details as never)})`;
}
