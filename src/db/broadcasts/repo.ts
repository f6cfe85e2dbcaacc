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
import { earnedInCampaign, expiringOnJoin } from '../ledger/audience-sql.js';
import { localeSql } from '../participants/locale-sql.js';

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

/** The broadcast, its row locked for the rest of the transaction (a pause, resume or cancel). */
export async function lockById(db: Db, id: string): Promise<Broadcast | undefined> {
  const [row] = await db.unsafe<Broadcast[]>(`select ${B_COLS} from broadcasts where id = $1 for update`, [id]);
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

/** Whether the broadcast's send time has come. */
export async function isDue(db: Db, id: string): Promise<boolean> {
  const rows = await db`select 1 from broadcasts where id = ${id} and send_at <= now()`;
  return rows.length > 0;
}

/** Locks a broadcast whose send time has come (the fan-out's batch holds it); its status, or undefined when not due. */
export async function lockDue(db: Db, id: string): Promise<BroadcastStatus | undefined> {
  const [b] = await db<{ status: BroadcastStatus }[]>`select status from broadcasts where id = ${id} and send_at <= now() for update`;
  return b?.status;
}

export async function activeIds(db: Db): Promise<string[]> {
  const rows = await db<{ id: string }[]>`select id from broadcasts where status = 'sending' order by created_at, id`;
  return rows.map((r) => r.id);
}

/** Broadcasts fanning out or sending, oldest first: the ones delivery lanes take rows of. */
export async function liveIds(db: Db): Promise<string[]> {
  const rows = await db<{ id: string }[]>`select id from broadcasts where status in ('fanning_out', 'sending') order by created_at, id`;
  return rows.map((r) => r.id);
}

// ---- fan-out -------------------------------------------------------------------------------

/** The recipient's language, by the one locale rule (replies use the same). */
const LOCALE_SQL = localeSql({
  chosen: 'p.locale',
  hint: 'i.locale_hint',
  phone: 'coalesce(p.phone, i.verified_phone)',
  market: 'prog.market',
  fallback: 'prog.default_locale',
});

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
  if (a.locales?.length) {
    const locales = a.locales.flatMap((l) => (l === 'pt' ? ['pt-PT', 'pt-BR'] : [l]));
    where.push(`${LOCALE_SQL} = any(${add(locales)}::text[])`);
  }
  if (a.campaignId) {
    const c = add(a.campaignId);
    where.push(`(p.id in (select participant_id from campaign_tallies where campaign_id = ${c}::uuid)
                 or ${earnedInCampaign(`${c}::uuid`)})`);
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
  return expiringOnJoin(`$${params.length}::date`);
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
