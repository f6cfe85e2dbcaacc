/** Program managers as the chat features reach them (the chat menu of /broadcast). */
import type { Db } from '../sql.js';
import type { Locale } from '../../shared/locale.js';
import type { ChannelId } from '../../shared/messages.js';
import { localeSql } from './locale-sql.js';

const MANAGER_LOCALE = localeSql({ chosen: 'p.locale', hint: 'ci.locale_hint', phone: 'coalesce(p.phone, ci.verified_phone)', fallback: 'prog.default_locale' });

/** Chats of active program managers on a channel, each in the manager's language. */
export async function managerChats(db: Db, channel: ChannelId): Promise<Array<{ chatId: string; locale: Locale }>> {
  return db.unsafe<Array<{ chatId: string; locale: Locale }>>(
    `select distinct on (ci.chat_id) ci.chat_id, ${MANAGER_LOCALE} as locale
       from participants p join programs prog on prog.id = p.program_id
       join channel_identities ci on ci.participant_id = p.id and ci.channel = $1
      where p.role = 'manager' and p.status = 'active' and p.registered_at is not null and ci.unreachable_at is null
      order by ci.chat_id`,
    [channel],
  );
}
