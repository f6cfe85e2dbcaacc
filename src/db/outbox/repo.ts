import { jsonText, type Db } from '../sql.js';
import type { ChannelId, Outbound } from '../../shared/messages.js';

export type OutboxKind = 'reply' | 'notice' | 'broadcast';
export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'unreachable';

export interface OutboxRow {
  id: number;
  programId: string;
  channel: ChannelId;
  externalId: string;
  chatId: string;
  identityId: string | null;
  participantId: string | null;
  kind: OutboxKind;
  message: Outbound;
  dedupeKey: string | null;
  status: OutboxStatus;
  generation: number;
  attempts: number;
  notBefore: Date | null;
  claimedAt: Date | null;
  sentAt: Date | null;
  lastError: string | null;
  createdAt: Date;
}

/** The channel whose pg_notify pokes the sender; delivered only when the inserting transaction commits. */
export const OUTBOX_NOTIFY_CHANNEL = 'punkto_outbox';

const COLS = `id, program_id, channel, external_id, chat_id, identity_id, participant_id, kind, message::text as message,
  dedupe_key, status, generation, attempts, not_before, claimed_at, sent_at, last_error, created_at`;

type Raw = Omit<OutboxRow, 'message'> & { message: string };
const toRow = (r: Raw): OutboxRow => ({ ...r, message: JSON.parse(r.message) as Outbound });

export type NewOutboxRow = Pick<
  OutboxRow,
  'programId' | 'channel' | 'externalId' | 'chatId' | 'identityId' | 'participantId' | 'kind' | 'message'
> & { dedupeKey?: string; status?: OutboxStatus; lastError?: string };

/** Inserts a row (nothing when the dedupe key was used before) and notifies the sender on commit. */
export async function insert(db: Db, row: NewOutboxRow): Promise<number | undefined> {
  const [r] = await db<{ id: number }[]>`
    insert into outbox (program_id, channel, external_id, chat_id, identity_id, participant_id, kind, message, dedupe_key,
                        status, last_error)
    values (${row.programId}, ${row.channel}, ${row.externalId}, ${row.chatId}, ${row.identityId}, ${row.participantId},
            ${row.kind}, ${db.json(row.message as never)}, ${row.dedupeKey ?? null}, ${row.status ?? 'pending'},
            ${row.lastError ?? null})
    on conflict (dedupe_key) where dedupe_key is not null do nothing
    returning id`;
  if (r && (row.status ?? 'pending') === 'pending') {
    await db`select pg_notify(${OUTBOX_NOTIFY_CHANNEL}, ${`${row.channel} ${row.chatId}`})`;
  }
  return r?.id;
}

/**
 * The replies of one inbound message, in one statement and in order (ids ascend with the array).
 * No NOTIFY: the dialog engine pokes the sender after commit (`onCommitted`), because Postgres
 * serialises the commits of notifying transactions on one global lock, fsync included.
 */
export function insertReplies(db: Db, rows: readonly NewOutboxRow[]): Promise<void> {
  if (rows.length === 0) return Promise.resolve();
  // Not async and text only: it may be a pipelined transaction's final statement, which must throw
  // at the call rather than fail on the client (src/db/pipelined-transaction.ts).
  const params: Array<string | null> = [];
  const tuples = rows.map((row) => {
    const at = params.length;
    params.push(row.programId, row.channel, row.externalId, row.chatId, row.identityId, row.participantId, row.kind,
      jsonText(row.message), row.dedupeKey ?? null, row.status ?? 'pending', row.lastError ?? null);
    return `($${at + 1}::uuid, $${at + 2}, $${at + 3}, $${at + 4}, $${at + 5}::uuid, $${at + 6}::uuid, $${at + 7}, $${at + 8}::text::jsonb,
      $${at + 9}, $${at + 10}, $${at + 11})`;
  });
  return db
    .unsafe(
      `insert into outbox (program_id, channel, external_id, chat_id, identity_id, participant_id, kind, message, dedupe_key,
                           status, last_error)
       values ${tuples.join(', ')}
       on conflict (dedupe_key) where dedupe_key is not null do nothing`,
      params,
      // Prepared (one text per reply count): unprepared, postgres.js spends an extra round trip
      // describing the parameters and Postgres plans the insert every time.
      { prepare: true },
    )
    .then(() => undefined);
}

export async function getById(db: Db, id: number): Promise<OutboxRow | undefined> {
  const [r] = await db.unsafe<Raw[]>(`select ${COLS} from outbox where id = $1`, [id]);
  return r && toRow(r);
}

/**
 * The row a chat must send next: replies and notices before broadcast traffic, otherwise in order.
 * A row being sent ('sending') stays the head until it is settled, which keeps one chat serial.
 */
export async function headOfChat(db: Db, channel: ChannelId, chatId: string): Promise<OutboxRow | undefined> {
  const [r] = await db.unsafe<Raw[]>(
    `select ${COLS} from outbox where channel = $1 and chat_id = $2 and status in ('pending', 'sending')
      order by (kind = 'broadcast'), id limit 1`,
    [channel, chatId],
  );
  return r && toRow(r);
}

/** Heads of every chat with something to send now (used by the sweeper). */
export async function dueHeads(db: Db, limit: number, minAgeMs = 0): Promise<OutboxRow[]> {
  const rows = await db.unsafe<Raw[]>(
    `select ${COLS} from (
       select distinct on (channel, chat_id) *
         from outbox where status in ('pending', 'sending')
        order by channel, chat_id, (kind = 'broadcast'), id
     ) heads
     where status = 'pending' and coalesce(not_before, created_at) <= now() - make_interval(secs => $2)
     order by (kind = 'broadcast'), id
     limit $1`,
    [limit, minAgeMs / 1000],
  );
  return rows.map(toRow);
}

/**
 * Rows claimed by a process that died before settling them: put back to pending (a new
 * generation, so they get a fresh job). This is the at-least-once window: such a row may have
 * reached the user before the crash, and is sent again.
 */
export async function releaseStale(db: Db, olderThanMs: number): Promise<number> {
  const rows = await db`
    update outbox set status = 'pending', generation = generation + 1, claimed_at = null
     where status = 'sending' and claimed_at < now() - make_interval(secs => ${olderThanMs / 1000})
       -- an owned claim is released when its process stops (db/liveness.ts); one its live process
       -- forgot (a bug) after ten minutes
       and (claimed_by is null or claimed_at < now() - interval '10 minutes')
    returning id`;
  return rows.length;
}

/** Claims a row for sending if it is still pending in this generation and due. */
export async function claim(db: Db, id: number, generation: number): Promise<OutboxRow | undefined> {
  const [r] = await db.unsafe<Raw[]>(
    `update outbox set status = 'sending', claimed_at = now()
      where id = $1 and generation = $2 and status = 'pending' and (not_before is null or not_before <= now())
     returning ${COLS}`,
    [id, generation],
  );
  return r && toRow(r);
}

export async function markSent(db: Db, id: number, providerMessageId: string | undefined): Promise<void> {
  await db`update outbox set status = 'sent', sent_at = now(), provider_message_id = ${providerMessageId ?? null}, last_error = null
           where id = ${id}`;
}

/** Back to pending after a delay; `countAttempt` false for platform rate limits. */
export async function reschedule(db: Db, id: number, delayMs: number, countAttempt: boolean, error?: string): Promise<number> {
  const [r] = await db<{ generation: number }[]>`
    update outbox set status = 'pending', claimed_at = null, generation = generation + 1,
           attempts = attempts + ${countAttempt ? 1 : 0},
           not_before = now() + make_interval(secs => ${delayMs / 1000}),
           last_error = coalesce(${error ?? null}, last_error)
     where id = ${id} returning generation`;
  return r!.generation;
}

/** Delays a pending row (per-chat pacing) under a new generation. */
export async function delay(db: Db, id: number, until: Date): Promise<number | undefined> {
  const [r] = await db<{ generation: number }[]>`
    update outbox set generation = generation + 1, not_before = ${until}
     where id = ${id} and status = 'pending' returning generation`;
  return r?.generation;
}

export async function markFailed(db: Db, id: number, error: string): Promise<void> {
  await db`update outbox set status = 'failed', attempts = attempts + 1, last_error = ${error}, claimed_at = null where id = ${id}`;
}

/** The chat is gone (user blocked the bot): this row and everything still waiting for it stop. */
export async function markChatUnreachable(db: Db, channel: ChannelId, chatId: string, reason: string): Promise<number> {
  const rows = await db`
    update outbox set status = 'unreachable', last_error = ${reason}, claimed_at = null
     where channel = ${channel} and chat_id = ${chatId} and status in ('pending', 'sending')
    returning id`;
  return rows.length;
}

/** When the last `n` messages to a chat were sent, newest first (per-chat pacing). */
export async function recentSends(db: Db, channel: ChannelId, chatId: string, n: number): Promise<Date[]> {
  const rows = await db<{ sentAt: Date }[]>`
    select sent_at from outbox where channel = ${channel} and chat_id = ${chatId} and status = 'sent'
     order by sent_at desc limit ${n}`;
  return rows.map((r) => r.sentAt);
}

/** A participant's delivered (or given-up) messages; what is still pending stays. */
export async function deleteSettledOf(db: Db, participantId: string): Promise<void> {
  await db`delete from outbox where participant_id = ${participantId} and status <> 'pending'`;
}
