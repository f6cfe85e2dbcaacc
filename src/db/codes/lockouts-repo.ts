/** SQL for code guesses and the lockouts they lead to. */
import type { Db } from '../sql.js';

export async function activeLockout(db: Db, subjects: string[], now: Date): Promise<Date | undefined> {
  const [row] = await db<{ until: Date }[]>`
    select max(until) as until from code_lockouts where subject = any(${subjects}) and until > ${now}`;
  return row?.until ?? undefined;
}

export async function recordGuess(db: Db, subjects: string[], at: Date): Promise<void> {
  await db`insert into code_guesses (subject, at) select unnest(${subjects}::text[]), ${at}`;
}

export async function guessesSince(db: Db, subject: string, since: Date): Promise<number> {
  const [row] = await db<{ n: number }[]>`
    select count(*)::int as n from code_guesses g
    where g.subject = ${subject} and g.at > ${since}
      and g.at > coalesce((select l.until from code_lockouts l where l.subject = ${subject}), '-infinity')`;
  return row!.n;
}

/** Locks a subject; the level doubles the time when the previous lockout was recent. */
export async function lock(
  db: Db,
  l: { subject: string; participantId: string | null; now: Date; baseMs: number; resetAfterMs: number; maxLevel: number },
): Promise<Date> {
  const [row] = await db<{ until: Date }[]>`
    insert into code_lockouts (subject, participant_id, level, locked_at, until)
    values (${l.subject}, ${l.participantId}, 0, ${l.now}, ${new Date(l.now.getTime() + l.baseMs)})
    on conflict (subject) do update set
      level = case when code_lockouts.until > ${new Date(l.now.getTime() - l.resetAfterMs)}
                   then least(code_lockouts.level + 1, ${l.maxLevel}) else 0 end,
      locked_at = excluded.locked_at,
      until = excluded.locked_at + (${l.baseMs}::bigint * power(2, case when code_lockouts.until >
                ${new Date(l.now.getTime() - l.resetAfterMs)} then least(code_lockouts.level + 1, ${l.maxLevel}) else 0 end)::bigint)
                * interval '1 millisecond',
      participant_id = coalesce(excluded.participant_id, code_lockouts.participant_id)
    returning until`;
  return row!.until;
}

export async function listLockouts(db: Db, now: Date, includeExpired: boolean) {
  return db<{ subject: string; participantId: string | null; level: number; lockedAt: Date; until: Date }[]>`
    select subject, participant_id, level, locked_at, until from code_lockouts
    where ${includeExpired} or until > ${now} order by until desc limit 500`;
}

/** Ends a subject's lockout now; false when it was not locked. */
export async function clearLockout(db: Db, subject: string, now: Date): Promise<boolean> {
  const rows = await db`update code_lockouts set until = ${now} where subject = ${subject} and until > ${now} returning subject`;
  return rows.length > 0;
}
