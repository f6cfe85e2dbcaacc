/** whatsapp_lids: the external id chosen for a `…@lid` sender, and the phone learnt for it. */
import type { Db } from '../sql.js';

export interface LidRow {
  externalId: string;
  phoneDigits: string | null;
}

export async function findLid(db: Db, lid: string): Promise<LidRow | undefined> {
  const [row] = await db<LidRow[]>`select external_id, phone_digits from whatsapp_lids where lid = ${lid}`;
  return row;
}

export async function setLidPhone(db: Db, lid: string, phoneDigits: string): Promise<void> {
  await db`update whatsapp_lids set phone_digits = ${phoneDigits}, resolved_at = now() where lid = ${lid}`;
}

/** The first choice for a lid; undefined when a concurrent first message inserted it first. */
export async function insertLid(db: Db, lid: string, phoneDigits: string | undefined): Promise<LidRow | undefined> {
  const [row] = await db<LidRow[]>`
    insert into whatsapp_lids (lid, phone_digits, external_id, resolved_at)
    values (${lid}, ${phoneDigits ?? null}, ${phoneDigits ?? lid}, ${phoneDigits ? new Date() : null})
    on conflict (lid) do nothing
    returning external_id, phone_digits`;
  return row;
}
