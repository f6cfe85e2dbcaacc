import type { Db } from '../sql.js';
import type { ChannelIdentityRow, Participant, ParticipantRole, ParticipantStatus } from '../../domain/participants/index.js';
import type { ChannelId } from '../../shared/messages.js';

// jsonb comes back as text and is parsed here: postgres.camel would otherwise rename keys inside it.
const P_COLS = `id, program_id, status, role, locale, name, phone, phone_verified, store, profile::text as profile,
  consent_version, consent_at, muted, registered_at, erased_at, created_at`;

type RawParticipant = Omit<Participant, 'profile'> & { profile: string };
const toParticipant = (r: RawParticipant | undefined): Participant | undefined =>
  r ? { ...r, profile: JSON.parse(r.profile) as Record<string, string | null> } : undefined;

export async function getById(db: Db, id: string): Promise<Participant | undefined> {
  const [row] = await db.unsafe<RawParticipant[]>(`select ${P_COLS} from participants where id = $1`, [id]);
  return toParticipant(row);
}

/** Locks the participant row for the rest of the transaction. */
export async function lockById(db: Db, id: string): Promise<Participant | undefined> {
  const [row] = await db.unsafe<RawParticipant[]>(`select ${P_COLS} from participants where id = $1 for update`, [id]);
  return toParticipant(row);
}

export async function findByVerifiedPhone(db: Db, programId: string, phone: string): Promise<Participant | undefined> {
  const [row] = await db.unsafe<RawParticipant[]>(
    `select ${P_COLS} from participants
      where program_id = $1 and phone = $2 and phone_verified and status <> 'erased' for update`,
    [programId, phone],
  );
  return toParticipant(row);
}

export async function insert(
  db: Db,
  p: { programId: string; phone: string | null; phoneVerified: boolean; locale: string | null; consentVersion: string; consentAt: Date },
): Promise<Participant> {
  const [row] = await db.unsafe<RawParticipant[]>(
    `insert into participants (program_id, phone, phone_verified, locale, consent_version, consent_at)
     values ($1, $2, $3, $4, $5, $6) returning ${P_COLS}`,
    [p.programId, p.phone, p.phoneVerified, p.locale, p.consentVersion, p.consentAt],
  );
  return toParticipant(row)!;
}

/** Any writable column of a participant; `locale` is checked by the caller. */
export type ParticipantPatch = Partial<Omit<Participant, 'id' | 'programId' | 'createdAt' | 'locale'> & { locale: string | null }>;

const COLUMN: Record<keyof ParticipantPatch, string> = {
  status: 'status',
  role: 'role',
  locale: 'locale',
  name: 'name',
  phone: 'phone',
  phoneVerified: 'phone_verified',
  store: 'store',
  profile: 'profile',
  consentVersion: 'consent_version',
  consentAt: 'consent_at',
  muted: 'muted',
  registeredAt: 'registered_at',
  erasedAt: 'erased_at',
};

export async function update(db: Db, id: string, patch: ParticipantPatch): Promise<Participant | undefined> {
  const entries = Object.entries(patch).filter(([, v]) => v !== undefined) as [keyof ParticipantPatch, unknown][];
  if (entries.length === 0) return getById(db, id);
  const sets = entries.map(([k], i) => `${COLUMN[k]} = $${i + 2}${k === 'profile' ? '::jsonb' : ''}`);
  // jsonb parameters are serialised by postgres.js itself: pass the object, not a JSON string.
  const values = entries.map(([, v]) => v);
  const [row] = await db.unsafe<RawParticipant[]>(
    `update participants set ${sets.join(', ')}, updated_at = now() where id = $1 returning ${P_COLS}`,
    [id, ...values] as never[],
  );
  return toParticipant(row);
}

/** Mutes or unmutes broadcasts for a participant; false when it already was so. */
export async function setMuted(db: Db, participantId: string, muted: boolean): Promise<boolean> {
  const rows = await db`update participants set muted = ${muted}, updated_at = now() where id = ${participantId} and muted <> ${muted} returning 1`;
  return rows.length > 0;
}

export async function insertConsent(db: Db, c: { participantId: string; termsVersion: string; accepted: boolean; at: Date }): Promise<void> {
  await db`insert into consents (participant_id, terms_version, accepted, at)
           values (${c.participantId}, ${c.termsVersion}, ${c.accepted}, ${c.at})`;
}

export async function consents(db: Db, participantId: string): Promise<{ termsVersion: string; accepted: boolean; at: Date }[]> {
  return db<{ termsVersion: string; accepted: boolean; at: Date }[]>`
    select terms_version, accepted, at from consents where participant_id = ${participantId} order by at, id`;
}

export interface ListQuery {
  programId: string;
  search?: string;
  status?: ParticipantStatus;
  role?: ParticipantRole;
  limit: number;
  offset: number;
}

export async function list(db: Db, q: ListQuery): Promise<{ items: Participant[]; total: number }> {
  const like = q.search ? `%${q.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const digits = q.search ? q.search.replace(/\D/g, '') : '';
  const where = `program_id = $1
    and ($2::text is null or lower(coalesce(name, '')) like $2 or lower(coalesce(store, '')) like $2
         or ($3 <> '' and length($3) >= 3 and regexp_replace(coalesce(phone, ''), '\\D', '', 'g') like '%' || $3 || '%'))
    and ($4::text is null or status = $4)
    and ($5::text is null or role = $5)`;
  const params = [q.programId, like, digits, q.status ?? null, q.role ?? null];
  const raw = await db.unsafe<RawParticipant[]>(
    `select ${P_COLS} from participants where ${where} order by created_at desc, id limit $6 offset $7`,
    [...params, q.limit, q.offset] as never[],
  );
  const items = raw.map((r) => toParticipant(r)!);
  const [count] = await db.unsafe<{ n: number }[]>(`select count(*)::int as n from participants where ${where}`, params as never[]);
  return { items, total: count?.n ?? 0 };
}

// ---- channel identities ----------------------------------------------------------------------

const I_COLS = `id, program_id, channel, external_id, chat_id, participant_id, display_name, locale_hint, verified_phone,
  unreachable_at, unreachable_reason, created_at, last_seen_at`;

export async function findIdentity(db: Db, programId: string, channel: ChannelId, externalId: string): Promise<ChannelIdentityRow | undefined> {
  const [row] = await db.unsafe<ChannelIdentityRow[]>(
    `select ${I_COLS} from channel_identities where program_id = $1 and channel = $2 and external_id = $3`,
    [programId, channel, externalId],
  );
  return row;
}

export async function identitiesOf(db: Db, participantId: string): Promise<ChannelIdentityRow[]> {
  return db.unsafe<ChannelIdentityRow[]>(
    `select ${I_COLS} from channel_identities where participant_id = $1 order by last_seen_at desc`,
    [participantId],
  );
}

export async function linkIdentity(db: Db, identityId: string, participantId: string): Promise<void> {
  await db`update channel_identities set participant_id = ${participantId} where id = ${identityId}`;
}

export async function markUnreachable(db: Db, channel: ChannelId, externalId: string, reason: string): Promise<number> {
  const rows = await db`
    update channel_identities set unreachable_at = now(), unreachable_reason = ${reason}
     where channel = ${channel} and external_id = ${externalId} and unreachable_at is null
    returning id`;
  return rows.length;
}

export async function deleteIdentitiesOf(db: Db, participantId: string): Promise<string[]> {
  const rows = await db<{ id: string }[]>`delete from channel_identities where participant_id = ${participantId} returning id`;
  return rows.map((r) => r.id);
}

// ---- one message's opening read ------------------------------------------------------------------

/**
 * postgres.js runs `unsafe()` text unprepared: with parameters that is an extra round trip
 * (Parse/Describe, wait, then Bind/Execute) and a fresh plan on every call. Fixed texts on the
 * per-message path are prepared once per connection instead.
 */
const PREPARED = { prepare: true } as const;

export type OpenedConversation =
  | { accepted: false }
  | { accepted: true; program: ProgramRow | undefined; identity: ChannelIdentityRow | undefined; participant: Participant | undefined; state: Record<string, unknown> };

type OpenRow = { ord: number | null; accepted: boolean; state: string | null } & Record<string, unknown>;

export interface OpeningInput {
  channel: ChannelId;
  externalId: string;
  chatId: string;
  messageId: string;
  displayName?: string;
  localeHint?: string;
  verifiedPhone?: string;
}

/**
 * What the dialog engine needs to start its messages, in one round trip: `dialog_open()` (migration
 * 0014) accepts the inbox rows (dedupe), upserts the identities, which takes each conversation's row
 * lock (a second message of a chat waits there until the first one's transaction ends), and then
 * reads program, participant and state with a snapshot taken after the locks, so it sees what the
 * previous message of each chat committed. A duplicate writes nothing (`accepted: false`). Answers
 * in the order given; give the messages of a batch sorted by chat (one lock order everywhere).
 */
export async function openConversations(db: Db, programSlug: string, items: readonly OpeningInput[]): Promise<OpenedConversation[]> {
  const column = <K extends keyof OpeningInput>(k: K) => items.map((i) => i[k] ?? null);
  const rows = await db.unsafe<OpenRow[]>(
    'select * from dialog_open($1, $2, $3, $4, $5, $6, $7, $8)',
    [
      programSlug,
      column('channel'),
      column('externalId'),
      column('chatId'),
      column('messageId'),
      column('displayName'),
      column('localeHint'),
      column('verifiedPhone'),
    ] as never[],
    PREPARED,
  );
  const byOrd = new Map(rows.map((r) => [r.ord, r]));
  return items.map((_, i) => toOpened(byOrd.get(i + 1)));
}

/**
 * The `<prefix>_…` columns of a joined row as the row of their own table: `iProgramId` →
 * `programId` (the client has camelCased the names already). `dialog_open()` answers one fixed
 * row type, so which keys those are is worked out from its first row, not on every row (walking
 * every key of every row was 6 % of a code message's Node time).
 */
const ownKeys: Partial<Record<'i' | 'p', Array<[from: string, to: string]>>> = {};
function columnsOf<T>(row: Record<string, unknown>, prefix: 'i' | 'p'): T {
  const pairs = (ownKeys[prefix] ??= Object.keys(row)
    .filter((k) => k.length > 1 && k[0] === prefix && k[1]! >= 'A' && k[1]! <= 'Z')
    .map((k) => [k, k[1]!.toLowerCase() + k.slice(2)]));
  const own: Record<string, unknown> = {};
  for (const [from, to] of pairs) own[to] = row[from];
  return own as T;
}

function toOpened(r: OpenRow | undefined): OpenedConversation {
  if (r && !r.accepted) return { accepted: false };
  return {
    accepted: true,
    program: r && toProgram(r as unknown as RawProgram),
    identity: r && columnsOf<ChannelIdentityRow>(r, 'i'),
    participant: r?.pId ? toParticipant(columnsOf<RawParticipant>(r, 'p')) : undefined,
    state: r?.state ? (JSON.parse(r.state) as Record<string, unknown>) : {},
  };
}

// ---- conversations ----------------------------------------------------------------------------

/** Conversation states of one or more chats (one statement; nothing when the list is empty). */
/**
 * Conversation states, as JSON text the caller made (`jsonText`), and not async: it may be a
 * pipelined transaction's final statement (src/db/pipelined-transaction.ts).
 */
export function saveStates(db: Db, states: ReadonlyArray<{ identityId: string; stateJson: string }>): Promise<void> {
  if (states.length === 0) return Promise.resolve();
  return db
    .unsafe(
      `insert into conversations (identity_id, state, updated_at)
       select s.identity_id, s.state::jsonb, now() from unnest($1::uuid[], $2::text[]) as s(identity_id, state)
       on conflict (identity_id) do update set state = excluded.state, updated_at = now()`,
      [states.map((s) => s.identityId), states.map((s) => s.stateJson)],
      PREPARED,
    )
    .then(() => undefined);
}

// ---- inbox ------------------------------------------------------------------------------------

/** True when this (channel, message id) is new; false for a repeated delivery. */
export async function acceptInbox(db: Db, channel: ChannelId, messageId: string): Promise<boolean> {
  const rows = await db`insert into inbox (channel, message_id) values (${channel}, ${messageId}) on conflict do nothing returning 1`;
  return rows.length === 1;
}

// ---- programs ---------------------------------------------------------------------------------

export interface ProgramRow {
  id: string;
  slug: string;
  name: string;
  defaultLocale: string;
  timeZone: string;
  termsVersion: string;
  settings: Record<string, unknown>;
}

const PROGRAM_COLS = 'id, slug, name, default_locale, time_zone, terms_version, settings::text as settings';
type RawProgram = Omit<ProgramRow, 'settings'> & { settings: string };
const toProgram = (r: RawProgram): ProgramRow => ({
  id: r.id,
  slug: r.slug,
  name: r.name,
  defaultLocale: r.defaultLocale,
  timeZone: r.timeZone,
  termsVersion: r.termsVersion,
  settings: JSON.parse(r.settings) as Record<string, unknown>,
});

export async function programBySlug(db: Db, slug: string): Promise<ProgramRow | undefined> {
  const [row] = await db<RawProgram[]>`select ${db.unsafe(PROGRAM_COLS)} from programs where slug = ${slug}`;
  return row && toProgram(row);
}

export async function programById(db: Db, id: string): Promise<ProgramRow | undefined> {
  const [row] = await db<RawProgram[]>`select ${db.unsafe(PROGRAM_COLS)} from programs where id = ${id}`;
  return row && toProgram(row);
}

/** The conversations (states) of the given chat identities. */
export async function deleteConversations(db: Db, identityIds: readonly string[]): Promise<void> {
  if (identityIds.length) await db`delete from conversations where identity_id = any(${identityIds as string[]})`;
}

/** Forgets inbox rows older than `days`: platforms re-deliver within minutes to hours. */
export async function pruneInbox(db: Db, days: number): Promise<void> {
  await db`delete from inbox where received_at < now() - make_interval(days => ${days})`;
}
