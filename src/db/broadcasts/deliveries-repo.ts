/**
 * Delivery rows of broadcasts: claimed (queued → sending) by one sender at a time, then marked
 * with a final status; a claim older than the stale limit belongs to a process that died and is
 * queued again.
 */
import type { Db } from '../sql.js';
import type { Locale } from '../../shared/locale.js';
import type { ChannelId } from '../../shared/messages.js';
import type { BroadcastCounts } from '../../domain/broadcasts/index.js';

export interface ClaimedDelivery {
  id: number;
  broadcastId: string;
  participantId: string;
  identityId: string | null;
  channel: ChannelId;
  externalId: string;
  chatId: string;
  locale: Locale;
  params: Record<string, unknown> | null;
  attempts: number;
  /** Muted since the fan-out: skipped as opted out. */
  muted: boolean;
}

/**
 * Claims up to `limit` queued, due deliveries of one broadcast on one channel (skipping rows
 * another sender holds). Claimed rows are 'sending' until marked; see `releaseStale`.
 */
export async function claim(db: Db, broadcastId: string, channel: ChannelId, limit: number): Promise<ClaimedDelivery[]> {
  return db<ClaimedDelivery[]>`
    with c as (
      select id from broadcast_deliveries
       where broadcast_id = ${broadcastId} and channel = ${channel} and status = 'queued'
         and (not_before is null or not_before <= now())
       order by id limit ${limit} for update skip locked
    )
    update broadcast_deliveries d set status = 'sending', claimed_at = now()
      from c where d.id = c.id
    returning d.id, d.broadcast_id, d.participant_id, d.identity_id, d.channel, d.external_id, d.chat_id, d.locale, d.params,
              d.attempts, coalesce((select muted from participants where id = d.participant_id), false) as muted`;
}

/**
 * Chats among `chatIds` that are in a conversation right now: a reply or notice waiting in the
 * outbox, or one sent within `withinMs`. A broadcast message waits for them (the platform allows
 * about one message per second per chat, and the conversation goes first).
 */
export async function busyChats(db: Db, channel: ChannelId, chatIds: string[], withinMs: number): Promise<Set<string>> {
  if (!chatIds.length) return new Set();
  const rows = await db<{ chatId: string }[]>`
    select distinct chat_id from outbox
     where channel = ${channel} and chat_id = any(${chatIds}::text[]) and kind <> 'broadcast'
       and (status in ('pending', 'sending') or (status = 'sent' and sent_at > now() - make_interval(secs => ${withinMs / 1000})))`;
  return new Set(rows.map((r) => r.chatId));
}

export async function markSent(db: Db, id: number, providerMessageId: string | undefined): Promise<void> {
  await db`update broadcast_deliveries set status = 'sent', sent_at = now(), provider_message_id = ${providerMessageId ?? null},
                  claimed_at = null where id = ${id} and status = 'sending'`;
}

/** Marks many deliveries sent in one statement (the sender flushes every few milliseconds). */
export async function markSentMany(db: Db, rows: Array<{ id: number; providerMessageId?: string }>): Promise<void> {
  if (!rows.length) return;
  await db`update broadcast_deliveries d set status = 'sent', sent_at = now(), provider_message_id = v.pid, claimed_at = null
             from (select unnest(${rows.map((r) => r.id)}::bigint[]) as id,
                          unnest(${rows.map((r) => r.providerMessageId ?? null)}::text[]) as pid) v
            where d.id = v.id and d.status = 'sending'`;
}

export async function markFinal(db: Db, id: number, status: 'failed' | 'unreachable' | 'opted_out', error?: string): Promise<void> {
  await db`update broadcast_deliveries set status = ${status}, last_error = ${error ?? null}, claimed_at = null,
                  attempts = attempts + ${status === 'failed' ? 1 : 0}
            where id = ${id} and status = 'sending'`;
}

/** Back to the queue after `delayMs`; `countAttempt` false for platform rate limits and unsent claims. */
export async function requeue(db: Db, id: number, delayMs: number, countAttempt: boolean, error?: string): Promise<void> {
  await db`update broadcast_deliveries set status = 'queued', claimed_at = null,
                  attempts = attempts + ${countAttempt ? 1 : 0},
                  not_before = ${delayMs > 0 ? db`now() + make_interval(secs => ${delayMs / 1000})` : null},
                  last_error = coalesce(${error ?? null}, last_error)
            where id = ${id} and status = 'sending'`;
}

/**
 * Claimed rows this process will not send after all (shutdown, pause): back to the queue, no
 * attempt counted; rows of a cancelled broadcast become cancelled.
 */
export async function unclaim(db: Db, ids: number[]): Promise<void> {
  if (!ids.length) return;
  await db`update broadcast_deliveries d
              set status = case when b.status = 'cancelled' then 'cancelled' else 'queued' end, claimed_at = null
             from broadcasts b
            where d.id = any(${ids}::bigint[]) and d.status = 'sending' and b.id = d.broadcast_id`;
}

/**
 * Claims left by a process that died: queued again. A row whose send was in flight at the moment
 * of the crash may have reached the person; it is sent again (at-least-once for that handful).
 */
export async function releaseStale(db: Db, olderThanMs: number): Promise<number> {
  const rows = await db`
    update broadcast_deliveries d
       set status = case when b.status = 'cancelled' then 'cancelled' else 'queued' end, claimed_at = null
      from broadcasts b
     where d.status = 'sending' and d.claimed_at < now() - make_interval(secs => ${olderThanMs / 1000})
       -- an owned claim is released when its process stops (db/liveness.ts); one its live process
       -- forgot (a bug) after ten minutes
       and (d.claimed_by is null or d.claimed_at < now() - interval '10 minutes')
       and b.id = d.broadcast_id
    returning 1`;
  return rows.length;
}

/** Cancelled broadcast: what is still queued will not be sent. */
export async function cancelQueued(db: Db, broadcastId: string): Promise<number> {
  const rows = await db`update broadcast_deliveries set status = 'cancelled' where broadcast_id = ${broadcastId} and status = 'queued' returning 1`;
  return rows.length;
}

/** Sending broadcasts with nothing left queued or in flight: done. */
export async function completeFinished(db: Db): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    update broadcasts b set status = 'done', finished_at = now()
     where b.status = 'sending' and b.fanout_done
       and not exists (select 1 from broadcast_deliveries d where d.broadcast_id = b.id and d.status in ('queued', 'sending'))
    returning b.id`;
  return rows.map((r) => r.id);
}

export async function counts(db: Db, broadcastId: string): Promise<BroadcastCounts> {
  const rows = await db<{ status: string; n: number }[]>`
    select status, count(*)::int as n from broadcast_deliveries where broadcast_id = ${broadcastId} group by status`;
  const c: BroadcastCounts = { total: 0, queued: 0, sending: 0, sent: 0, failed: 0, unreachable: 0, optedOut: 0, cancelled: 0 };
  for (const r of rows) {
    c.total += r.n;
    const key = r.status === 'opted_out' ? 'optedOut' : (r.status as keyof BroadcastCounts);
    c[key] += r.n;
  }
  return c;
}
