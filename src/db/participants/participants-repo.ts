import type { Db } from '../sql.js';
import type { ChannelIdentityRow, Participant, ParticipantRole, ParticipantStatus } from '../../domain/participants/index.js';
import type { ChannelId } from '../../shared/messages.js';

// jsonb comes back as text and is parsed here: postgres.camel would otherwise rename keys inside it.
const P_COLS = `id, program_id, status, role, locale, name, phone, phone_verified, store, profile::text as profile,
  consent_version, consent_at, muted, registered_at, erased_at, created_at`;

export type RawParticipant = Omit<Participant, 'profile'> & { profile: string };
export const toParticipant = (r: RawParticipant | undefined): Participant | undefined =>
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
  /** Keyset cursor: the (createdAt, id) of the last item of the previous page (db/page-cursor.ts). */
  after?: { createdAt: Date; id: string };
}

/**
 * Only the conditions asked for go into the statement (a generic plan of `$2 is null or …` could
 * use no index): name and store substrings are served by the folded trigram index of 0050, phone
 * digits by 0041's, the order and the cursor by (program_id, created_at desc, id desc).
 */
export async function list(db: Db, q: ListQuery): Promise<{ items: Participant[]; total: number }> {
  const params: unknown[] = [q.programId];
  const add = (v: unknown) => `$${params.push(v)}`;
  const where = ['program_id = $1'];
  if (q.search) {
    // Case and accents are folded on both sides by punkto_fold (migration 0050), which the trigram index covers.
    const like = add(`%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const digits = q.search.replace(/\D/g, '');
    const arms = [`punkto_fold(coalesce(name, '') || ' ' || coalesce(store, '')) like punkto_fold(${like})`];
    if (digits.length >= 3) arms.push(`regexp_replace(coalesce(phone, ''), '\\D', '', 'g') like ${add(`%${digits}%`)}`);
    where.push(`(${arms.join(' or ')})`);
  }
  if (q.status) where.push(`status = ${add(q.status)}`);
  if (q.role) where.push(`role = ${add(q.role)}`);
  const filter = where.join(' and ');
  const countParams = [...params];
  if (q.after) where.push(`(created_at, id) < (${add(q.after.createdAt)}::timestamptz, ${add(q.after.id)}::uuid)`);
  const raw = await db.unsafe<RawParticipant[]>(
    `select ${P_COLS} from participants where ${where.join(' and ')}
      order by created_at desc, id desc limit ${add(q.limit)} offset ${add(q.after ? 0 : q.offset)}`,
    params as never[],
  );
  const items = raw.map((r) => toParticipant(r)!);
  const [count] = await db.unsafe<{ n: number }[]>(`select count(*)::int as n from participants where ${filter}`, countParams as never[]);
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
export type RawProgram = Omit<ProgramRow, 'settings'> & { settings: string };
export const toProgram = (r: RawProgram): ProgramRow => ({
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

