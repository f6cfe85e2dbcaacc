/**
 * Participants as the rest of Punkto uses them: lookups, registration, profile changes, consent,
 * blocking, muting, erasure, and reachability of their chats. Every method takes the database handle
 * first: the caller's transaction (the dialog engine's message transaction) or the pool. The
 * writes that must be all or nothing (erasure, a manager's change) open a transaction when handed
 * the pool.
 */
import { pageCursor, parsePageCursor } from '../../db/page-cursor.js';
import type { Db, Sql } from '../../db/sql.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import type { ChannelId } from '../../shared/messages.js';
import type {
  ChannelIdentityRow,
  Participant,
  ParticipantRole,
  ParticipantStatus,
  ProgramInfo,
} from '../../domain/participants/index.js';
import type { Locale } from '../../i18n/index.js';
import * as repo from '../../db/participants/participants-repo.js';
import { audit } from '../../db/audit-repo.js';
import { localeOf } from './locale.js';
import { toProgramInfo } from './program.js';
import { eraseParticipant, type ErasureHook } from './erase-participant.js';
import {
  linkVerifiedPhone,
  recordConsent,
  registerParticipant,
  type LinkVerifiedPhoneInput,
  type RegisterParticipantInput,
} from './register-participant.js';

export type { Participant, ParticipantRole, ParticipantStatus, ChannelIdentityRow, ProgramInfo, ErasureHook };
export type { GivenConsent, LinkVerifiedPhoneInput, RegisterParticipantInput } from './register-participant.js';
export { localeOf };
export { adjustPoints, type PointAdjustment } from './adjustments.js';

export interface ListParticipantsQuery {
  programId?: string;
  /** Matches name, store/company (substring, case-insensitive) or phone digits. */
  search?: string;
  status?: ParticipantStatus;
  role?: ParticipantRole;
  limit?: number;
  offset?: number;
  /** The nextCursor of the page before: continues from there by keyset (offset ignored). */
  after?: string;
}

/** What a participant may change about themselves in the chat (registration, profile questions). */
export type ProfileChanges = Partial<Pick<Participant, 'name' | 'role' | 'store' | 'profile' | 'registeredAt'>> & { locale?: Locale };

export interface ParticipantsService {
  getById(db: Db, id: string): Promise<Participant | undefined>;
  findByIdentity(db: Db, identity: { channel: ChannelId; externalId: string; programId?: string }): Promise<Participant | undefined>;
  /** The active participant owning this verified phone (row locked for the transaction). */
  findByVerifiedPhone(db: Db, programId: string, phone: string): Promise<Participant | undefined>;
  list(db: Db, query: ListParticipantsQuery): Promise<{ items: Participant[]; total: number; nextCursor: string | null }>;
  identities(db: Db, participantId: string): Promise<ChannelIdentityRow[]>;
  /** Consents as given, oldest first (what /mydata shows). */
  consents(db: Db, participantId: string): Promise<Array<{ termsVersion: string; accepted: boolean; at: Date }>>;
  /** The participant's language (choice → channel hint → phone → program default). */
  locale(db: Db, participant: Participant): Promise<Locale>;
  /** A new participant from a chat that gave its phone, with the consent given there. */
  register(db: Db, input: RegisterParticipantInput): Promise<Participant>;
  /** Links a chat to the owner of a verified phone; undefined when nobody owns it. */
  linkVerifiedPhone(db: Db, input: LinkVerifiedPhoneInput): Promise<Participant | undefined>;
  /** Stores an answer to the terms; returns the participant when it became their current consent. */
  recordConsent(db: Db, input: { participantId: string; termsVersion: string; accepted: boolean; at: Date }): Promise<Participant | undefined>;
  updateProfile(db: Db, id: string, changes: ProfileChanges): Promise<Participant | undefined>;
  setRole(db: Db, id: string, role: ParticipantRole): Promise<Participant | undefined>;
  setLocale(db: Db, id: string, locale: Locale): Promise<Participant | undefined>;
  setStatus(db: Db, id: string, status: 'active' | 'blocked'): Promise<Participant | undefined>;
  /** Muted participants get no broadcasts (replies and notices still arrive). */
  setMuted(db: Db, id: string, muted: boolean): Promise<Participant | undefined>;
  /** A manager's change of status, role or muting: one update and its audit entry, together. */
  manage(
    db: Db,
    id: string,
    changes: { status?: 'active' | 'blocked'; role?: ParticipantRole; muted?: boolean },
    actor: string,
  ): Promise<Participant | undefined>;
  /** Marks a chat unreachable (user blocked the bot); the sender stops sending to it. */
  markUnreachable(db: Db, identity: { channel: ChannelId; externalId: string }, reason: string): Promise<void>;
  /** Erases personal data (name, phone, store, profile, identities, conversation); ledger rows stay, anonymous. */
  erase(db: Db, id: string): Promise<void>;
  /** Participants with a role (e.g. moderators to notify of a receipt to review). */
  withRole(db: Db, role: ParticipantRole, programId?: string): Promise<Participant[]>;
  program(db: Db, programId?: string): Promise<ProgramInfo>;
  defaultProgramId(db: Db): Promise<string>;
}

export function createParticipants(deps: {
  sql: Sql;
  clock?: Clock;
  defaultLocale: Locale;
  /** Read at each erasure, so features created later can push theirs (main.ts). */
  onErase?: ErasureHook[];
}): ParticipantsService {
  const { sql } = deps;
  const clock = deps.clock ?? systemClock;
  let defaultProgram: string | undefined;
  /** On the caller's transaction, or in one of its own when handed the pool. */
  const atomically = <T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> =>
    db === sql ? (sql.begin((tx) => fn(tx)) as Promise<T>) : fn(db);

  const defaultProgramId = async (db: Db) => {
    if (!defaultProgram) {
      const row = await repo.programBySlug(db, 'default');
      if (!row) throw new Error('The default program is missing (migration 0001)');
      defaultProgram = row.id;
    }
    return defaultProgram;
  };

  const program = async (db: Db, programId?: string): Promise<ProgramInfo> => {
    const row = await repo.programById(db, programId ?? (await defaultProgramId(db)));
    if (!row) throw new Error(`Program ${programId} not found`);
    return toProgramInfo(row, deps.defaultLocale);
  };

  return {
    getById: (db, id) => repo.getById(db, id),
    async findByIdentity(db, identity) {
      const programId = identity.programId ?? (await defaultProgramId(db));
      const row = await repo.findIdentity(db, programId, identity.channel, identity.externalId);
      return row?.participantId ? repo.getById(db, row.participantId) : undefined;
    },
    findByVerifiedPhone: (db, programId, phone) => repo.findByVerifiedPhone(db, programId, phone),
    async list(db, query) {
      const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
      const page = await repo.list(db, {
        programId: query.programId ?? (await defaultProgramId(db)),
        search: query.search?.trim() || undefined,
        status: query.status,
        role: query.role,
        limit,
        offset: Math.max(query.offset ?? 0, 0),
        after: query.after ? parsePageCursor(query.after) : undefined,
      });
      const last = page.items.length === limit ? page.items.at(-1) : undefined;
      return { ...page, nextCursor: last ? pageCursor(last) : null };
    },
    identities: (db, participantId) => repo.identitiesOf(db, participantId),
    consents: (db, participantId) => repo.consents(db, participantId),
    async locale(db, participant) {
      const [identity] = await repo.identitiesOf(db, participant.id);
      const p = await program(db, participant.programId);
      return localeOf({ participant, identity, fallback: p.defaultLocale });
    },
    register: registerParticipant,
    linkVerifiedPhone,
    recordConsent,
    updateProfile: (db, id, changes) => repo.update(db, id, changes),
    setRole: (db, id, role) => repo.update(db, id, { role }),
    setLocale: (db, id, locale) => repo.update(db, id, { locale }),
    setStatus: (db, id, status) => repo.update(db, id, { status }),
    setMuted: (db, id, muted) => repo.update(db, id, { muted }),
    manage: (db, id, changes, actor) =>
      atomically(db, async (tx) => {
        const updated = await repo.update(tx, id, changes);
        if (updated) await audit(tx, actor, 'participant.update', `participant:${id}`, changes);
        return updated;
      }),
    async markUnreachable(db, identity, reason) {
      await repo.markUnreachable(db, identity.channel, identity.externalId, reason);
    },
    erase: (db, id) => atomically(db, (tx) => eraseParticipant(tx, id, clock.now(), deps.onErase ?? [])),
    async withRole(db, role, programId) {
      const pid = programId ?? (await defaultProgramId(db));
      const { items } = await repo.list(db, { programId: pid, role, status: 'active', limit: 1000, offset: 0 });
      return items;
    },
    program,
    defaultProgramId,
  };
}

export { toProgramInfo };
