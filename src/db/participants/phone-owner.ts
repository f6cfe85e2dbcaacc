import type { Db } from '../sql.js';

/**
 * Does another live participant of the program already have this phone (verified or typed)? A
 * typed, unverified phone is then refused: one number, one account, so twenty sign-ups cannot share
 * a number (and its owner's identity) to get fresh code-guessing budgets.
 */
export async function phoneHeldByOther(db: Db, programId: string, phone: string, except?: string): Promise<boolean> {
  const [row] = await db`
    select 1 from participants
     where program_id = ${programId} and phone = ${phone} and status <> 'erased' and id is distinct from ${except ?? null}::uuid
     limit 1`;
  return Boolean(row);
}
