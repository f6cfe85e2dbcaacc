/**
 * Broadcast and delivery rows. The fan-out walks participants by id (keyset pagination), writing one
 * delivery row per recipient in a single statement per batch, so a 100,000-recipient broadcast
 * never holds its audience in memory. Delivery rows move queued → sending (claimed) → a final
 * status; a claim older than the stale limit belongs to a process that died and is queued again.
 */
import type { Db } from '../sql.js';
import type { Locale } from '../../shared/locale.js';
import type { ChannelId } from '../../shared/messages.js';
import type {
  Audience,
  Broadcast,
  BroadcastButton,
  BroadcastCounts,
  BroadcastKind,
  BroadcastMessage,
  BroadcastStatus,
} from '../../domain/broadcasts/index.js';
import { storeMatches } from '../../domain/campaigns/campaign.js';

const B_COLS = `id, program_id, kind, source_key, message, image, buttons, audience, status, send_at, fanout_cursor,
  fanout_done, total, created_by, created_at, started_at, finished_at`;

export interface NewBroadcast {
  programId: string;
  kind: BroadcastKind;
  sourceKey?: string;
  message: BroadcastMessage;
  image?: { url?: string; mediaKey?: string } | null;
  buttons?: BroadcastButton[] | null;
  audience: Audience;
  sendAt?: Date;
  createdBy?: string;
}

/** Inserts a broadcast; undefined when its source key exists already (an automatic one, created before). */
export async function insert(db: Db, b: NewBroadcast): Promise<Broadcast | undefined> {
  const [row] = await db.unsafe<Broadcast[]>(
    `insert into broadcasts (program_id, kind, source_key, message, image, buttons, audience, send_at, created_by)
     values ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, coalesce($8::timestamptz, now()), $9)
     on conflict (source_key) do nothing
     returning ${B_COLS}`,
    [
      b.programId,
      b.kind,
      b.sourceKey ?? null,
      // Objects, not strings: the driver serialises jsonb parameters itself.
      b.message,
      b.image ?? null,
      b.buttons?.length ? b.buttons : null,
      b.audience,
      b.sendAt ?? null,
      b.createdBy ?? null,
    ] as never[],
  );
  return row;
}

export async function getById(db: Db, id: string): Promise<Broadcast | undefined> {
  const [row] = await db.unsafe<Broadcast[]>(`select ${B_COLS} from broadcasts where id = $1`, [id]);
  return row;
}

export async function bySourceKey(db: Db, key: string): Promise<Broadcast | undefined> {
  const [row] = await db.unsafe<Broadcast[]>(`select ${B_COLS} from broadcasts where source_key = $1`, [key]);
  return row;
}

/** Moves a broadcast from one of `from` to `to`; the row after the change, or undefined if it was not in `from`. */
export async function transition(db: Db, id: string, from: BroadcastStatus[], to: BroadcastStatus): Promise<Broadcast | undefined> {
  const [row] = await db.unsafe<Broadcast[]>(
    `update broadcasts set status = $3,
            started_at = case when $3 in ('fanning_out', 'sending') then coalesce(started_at, now()) else started_at end,
            finished_at = case when $3 in ('done', 'cancelled') then now() else finished_at end
      where id = $1 and status = any($2::text[]) returning ${B_COLS}`,
    [id, from, to] as never[],
  );
  return row;
}

/** Scheduled broadcasts whose time has come, and fan-outs left unfinished by a dead process. */
export async function dueForFanout(db: Db, limit = 100): Promise<string[]> {
  const rows = await db<{ id: string }[]>`
    select id from broadcasts where status in ('scheduled', 'fanning_out') and send_at <= now()
     order by send_at limit ${limit}`;
  return rows.map((r) => r.id);
}

export async function activeIds(db: Db): Promise<string[]> {
  const rows = await db<{ id: string }[]>`select id from broadcasts where status = 'sending' order by created_at, id`;
  return rows.map((r) => r.id);
}

// ---- fan-out -------------------------------------------------------------------------------

/** SQL for the recipient's language: their choice, the channel's hint, the phone's country, the program's default. */
const LOCALE_SQL = `coalesce(
  p.locale,
  case lower(split_part(replace(i.locale_hint, '_', '-'), '-', 1)) when 'pl' then 'pl' when 'pt' then 'pt' when 'be' then 'be' end,
  case when coalesce(p.phone, i.verified_phone) ~ '^\\+?48' then 'pl'
       when coalesce(p.phone, i.verified_phone) ~ '^\\+?(351|55)' then 'pt'
       when coalesce(p.phone, i.verified_phone) ~ '^\\+?375' then 'be' end,
  prog.default_locale)`;

/** The WHERE clause and parameters for an audience; `$1` is the program id, parameters continue from `$2`. */
function audienceWhere(a: Audience, params: unknown[]): string {
  const add = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const where = [`p.program_id = $1`, `p.status = 'active'`, `p.registered_at is not null`];
  if (a.roles?.length) where.push(`p.role = any(${add(a.roles)}::text[])`);
  // stores / regions: see wordMatcher (matched in code, the way campaigns match them).
  if (a.registeredSince) where.push(`p.registered_at >= ${add(a.registeredSince)}::timestamptz`);
  if (a.participantIds?.length) where.push(`p.id = any(${add(a.participantIds)}::uuid[])`);
  if (a.locales?.length) where.push(`${LOCALE_SQL} = any(${add(a.locales)}::text[])`);
  if (a.campaignId) {
    const c = add(a.campaignId);
    where.push(`(p.id in (select participant_id from campaign_tallies where campaign_id = ${c}::uuid)
                 or p.id in (select participant_id from ledger_transfers where campaign_id = ${c}::uuid))`);
  }
  if (a.expiringOn) where.push(`x.points > 0`);
  return where.join(' and ');
}

/**
 * Stores and regions match the way a campaign's do (`storeMatches`: whole words, without case or
 * diacritics), so "Demo, Lisboa" hears the start of a campaign for store "Demo" that it earns in.
 * Participants type these freely, so the match runs here rather than as SQL text equality.
 */
function wordMatcher(a: Audience): ((p: { store: string | null; region: string | null }) => boolean) | undefined {
  const stores = a.stores?.filter((x) => x.trim()) ?? [];
  const regions = a.regions?.filter((x) => x.trim()) ?? [];
  if (!a.stores?.length && !a.regions?.length) return undefined;
  return (p) =>
    (!a.stores?.length || stores.some((x) => storeMatches(p.store, x))) && (!a.regions?.length || regions.some((x) => storeMatches(p.region, x)));
}

function identityJoin(a: Audience, params: unknown[]): string {
  let channelFilter = '';
  if (a.channels?.length) {
    params.push(a.channels);
    channelFilter = `and ci.channel = any($${params.length}::text[])`;
  }
  // The chat they used last that still works; an unreachable one only when nothing else is left.
  return `join lateral (
      select ci.id, ci.channel, ci.external_id, ci.chat_id, ci.locale_hint, ci.verified_phone, ci.unreachable_at
        from channel_identities ci where ci.participant_id = p.id ${channelFilter}
       order by (ci.unreachable_at is null) desc, ci.last_seen_at desc limit 1) i on true`;
}

function expiryJoin(a: Audience, params: unknown[]): string {
  if (!a.expiringOn) return '';
  params.push(a.expiringOn);
  const day = `$${params.length}::date`;
  return `join lateral (
      select coalesce(sum(l.remaining), 0)::bigint as points, ${day}::text as day
        from ledger_accounts acc join ledger_lots l on l.account_id = acc.id
       where acc.program_id = p.program_id and acc.kind = 'participant' and acc.ref = p.id::text
         and l.open and (l.expires_at at time zone prog.time_zone)::date = ${day}) x on true`;
}

/** How many participants an audience reaches now (the preview's number). */
export async function countAudience(db: Db, programId: string, a: Audience): Promise<number> {
  const params: unknown[] = [programId];
  const joins = `${identityJoin(a, params)} ${expiryJoin(a, params)}`;
  const where = audienceWhere(a, params);
  const match = wordMatcher(a);
  const from = `from participants p join programs prog on prog.id = p.program_id ${joins}
      where ${where} and i.unreachable_at is null and not p.muted`;
  if (!match) {
    const [row] = await db.unsafe<{ n: number }[]>(`select count(*)::int as n ${from}`, params as never[]);
    return row?.n ?? 0;
  }
  // One row per distinct store and region (a handful), matched here.
  const rows = await db.unsafe<{ store: string | null; region: string | null; n: number }[]>(
    `select p.store, p.profile->>'region' as region, count(*)::int as n ${from} group by 1, 2`,
    params as never[],
  );
  return rows.reduce((sum, r) => sum + (match(r) ? r.n : 0), 0);
}

/**
 * Writes the delivery rows of the next `batchSize` participants after the broadcast's cursor and
 * moves the cursor, in one statement. Returns how many participants the batch covered (0: done).
 * Safe to repeat after a crash: rows that exist are skipped (unique (broadcast_id, participant_id)).
 * With stores or regions in the audience the batch's candidates are read first and matched in code
 * (see wordMatcher); run it in the transaction that holds the broadcast row, as the worker does.
 */
export async function fanoutBatch(db: Db, b: Pick<Broadcast, 'id' | 'programId' | 'audience' | 'fanoutCursor'>, batchSize: number): Promise<number> {
  const match = wordMatcher(b.audience);
  if (!match) return writeBatch(db, b, batchSize);
  const params: unknown[] = [b.programId];
  const joins = `${identityJoin(b.audience, params)} ${expiryJoin(b.audience, params)}`;
  const where = audienceWhere(b.audience, params);
  params.push(b.fanoutCursor);
  const cursor = `$${params.length}::uuid`;
  params.push(batchSize);
  const candidates = await db.unsafe<{ id: string; store: string | null; region: string | null }[]>(
    `select p.id, p.store, p.profile->>'region' as region
       from participants p join programs prog on prog.id = p.program_id ${joins}
      where ${where} and (${cursor} is null or p.id > ${cursor})
      order by p.id limit $${params.length}`,
    params as never[],
  );
  if (!candidates.length) return 0;
  const lastId = candidates.at(-1)!.id;
  const ids = candidates.filter(match).map((c) => c.id);
  if (ids.length) {
    await writeBatch(db, { ...b, audience: { ...b.audience, participantIds: ids } }, ids.length, lastId);
  } else {
    await db`update broadcasts set fanout_cursor = ${lastId} where id = ${b.id}`;
  }
  return candidates.length;
}

/** The single statement of a batch; `cursorTo` moves the cursor past candidates that did not match. */
async function writeBatch(
  db: Db,
  b: Pick<Broadcast, 'id' | 'programId' | 'audience' | 'fanoutCursor'>,
  batchSize: number,
  cursorTo?: string,
): Promise<number> {
  const params: unknown[] = [b.programId];
  const joins = `${identityJoin(b.audience, params)} ${expiryJoin(b.audience, params)}`;
  const where = audienceWhere(b.audience, params);
  params.push(b.fanoutCursor);
  const cursor = `$${params.length}::uuid`;
  params.push(batchSize);
  const limit = `$${params.length}`;
  params.push(b.id);
  const bid = `$${params.length}::uuid`;
  params.push(cursorTo ?? null);
  const cursorTo$ = `$${params.length}::uuid`;
  const paramsSql = b.audience.expiringOn ? `jsonb_build_object('points', x.points, 'count', x.points, 'day', x.day)` : 'null::jsonb';
  const [row] = await db.unsafe<{ n: number }[]>(
    `with batch as (
       select p.id as participant_id, i.id as identity_id, i.channel, i.external_id, i.chat_id, i.unreachable_at, p.muted,
              ${LOCALE_SQL} as locale, ${paramsSql} as params
         from participants p join programs prog on prog.id = p.program_id ${joins}
        where ${where} and (${cursor} is null or p.id > ${cursor})
        order by p.id limit ${limit}
     ), ins as (
       insert into broadcast_deliveries (broadcast_id, participant_id, identity_id, channel, external_id, chat_id, locale, params, status)
       select ${bid}, participant_id, identity_id, channel, external_id, chat_id, locale, params,
              case when muted then 'opted_out' when unreachable_at is not null then 'unreachable' else 'queued' end
         from batch
       on conflict (broadcast_id, participant_id) do nothing
       returning 1
     ), moved as (
       update broadcasts set fanout_cursor = coalesce(${cursorTo$}, (select participant_id from batch order by participant_id desc limit 1)),
                             total = total + (select count(*) from ins)
        where id = ${bid} and (${cursorTo$} is not null or exists (select 1 from batch))
       returning 1
     )
     select (select count(*) from batch)::int as n, (select count(*) from moved)::int as moved`,
    params as never[],
  );
  return row?.n ?? 0;
}

/** The fan-out has written every row: start sending (unless paused or cancelled meanwhile). */
export async function finishFanout(db: Db, id: string): Promise<void> {
  await db`update broadcasts set fanout_done = true,
                  status = case when status = 'fanning_out' then 'sending' else status end
            where id = ${id}`;
}

// ---- delivery ------------------------------------------------------------------------------

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

/** Chats of active program managers on a channel, with their language (the chat menu of /broadcast). */
export async function managerChats(db: Db, channel: ChannelId): Promise<Array<{ chatId: string; locale: Locale }>> {
  return db<Array<{ chatId: string; locale: Locale }>>`
    select distinct on (ci.chat_id) ci.chat_id, coalesce(p.locale, prog.default_locale) as locale
      from participants p join programs prog on prog.id = p.program_id
      join channel_identities ci on ci.participant_id = p.id and ci.channel = ${channel}
     where p.role = 'manager' and p.status = 'active' and p.registered_at is not null and ci.unreachable_at is null
     order by ci.chat_id`;
}

// ---- automatic broadcasts ------------------------------------------------------------------

export interface CampaignEdge {
  id: string;
  programId: string;
  name: string;
  names: Record<string, string>;
  audienceRoles: string[];
  stores: string[];
  regions: string[];
  startsAt: Date;
  endsAt: Date;
  /** The program's time zone: dates in the announcement are its local days. */
  timeZone: string;
}

/**
 * Campaigns that started (or ended) within the last `lookbackMs` and have no such announcement
 * yet. The look-back keeps a fresh install from announcing campaigns that ended long ago.
 */
export async function campaignsAtEdge(db: Db, edge: 'start' | 'end', lookbackMs: number): Promise<CampaignEdge[]> {
  const column = edge === 'start' ? 'starts_at' : 'ends_at';
  return db.unsafe<CampaignEdge[]>(
    `select c.id, c.program_id, c.name, c.names, c.audience_roles, c.stores, c.regions, c.starts_at, c.ends_at, prog.time_zone
       from campaigns c join programs prog on prog.id = c.program_id
      where c.${column} <= now() and c.${column} > now() - make_interval(secs => $1)
        and (c.status = 'active' or ($2 = 'end' and c.status = 'ended'))
        and not exists (select 1 from broadcasts b where b.source_key = 'campaign:' || c.id || ':' || $2)`,
    [lookbackMs / 1000, edge] as never[],
  );
}

export async function programIds(db: Db): Promise<Array<{ id: string; timeZone: string; defaultLocale: Locale }>> {
  return db<Array<{ id: string; timeZone: string; defaultLocale: Locale }>>`select id, time_zone, default_locale from programs`;
}

export async function programDefaultLocale(db: Db, programId: string): Promise<Locale> {
  const [r] = await db<{ defaultLocale: Locale }[]>`select default_locale from programs where id = ${programId}`;
  return r?.defaultLocale ?? 'pl';
}

/** The local day (YYYY-MM-DD) `days` from now in a time zone. */
export async function localDayPlus(db: Db, timeZone: string, days: number): Promise<string> {
  const [r] = await db<{ day: string }[]>`select to_char((now() at time zone ${timeZone})::date + ${days}::int, 'YYYY-MM-DD') as day`;
  return r!.day;
}
