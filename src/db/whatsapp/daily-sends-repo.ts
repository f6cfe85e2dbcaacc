/** whatsapp_daily_sends: the day's sends, counted against the daily cap. */
import type { Db } from '../sql.js';

/** Counts one send of `kind` for `day` unless the day's total already reached `limit`; false then. */
export async function countSend(db: Db, day: string, kind: 'reply' | 'broadcast', limit: number): Promise<boolean> {
  const column = kind === 'broadcast' ? 'broadcasts' : 'replies';
  const rows = await db.unsafe(
    `insert into whatsapp_daily_sends as d (day, ${column}) values ($1, 1)
     on conflict (day) do update set ${column} = d.${column} + 1
     where d.replies + d.broadcasts < $2
     returning 1`,
    [day, limit],
  );
  return rows.length > 0;
}
