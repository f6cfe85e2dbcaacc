/**
 * Participants as the rest of Punkto uses them: lookups, profile changes, consent, blocking,
 * muting, erasure, and reachability of their chats. Every method takes an optional `db` so it can
 * run inside a caller's transaction (the dialog engine's message transaction); without it, it runs
 * on the pool.
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

export type { Participant, ParticipantRole, ParticipantStatus, ChannelIdentityRow, ProgramInfo };
export { localeOf };
export { adjustPoints, type PointAdjustment } from './adjustments.js';
export { createEnqueueOutbound, type EnqueueOutbound, type EnqueueInput, type EnqueueResult } from './outbox.js';

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

export interface ParticipantsService {
  getById(id: string, db?: Db): Promise<Participant | undefined>;
  findByIdentity(identity: { channel: ChannelId; externalId: string; programId?: string }, db?: Db): Promise<Participant | undefined>;
  list(query: ListParticipantsQuery, db?: Db): Promise<{ items: Participant[]; total: number; nextCursor: string | null }>;
  identities(participantId: string, db?: Db): Promise<ChannelIdentityRow[]>;
  /** The participant's language (choice → channel hint → phone → program default). */
  locale(participant: Participant, db?: Db): Promise<Locale>;
  setRole(id: string, role: ParticipantRole, db?: Db): Promise<Participant | undefined>;
  setLocale(id: string, locale: Locale, db?: Db): Promise<Participant | undefined>;
  setStatus(id: string, status: 'active' | 'blocked', db?: Db): Promise<Participant | undefined>;
  /** Muted participants get no broadcasts (replies and notices still arrive). */
  setMuted(id: string, muted: boolean, db?: Db): Promise<Participant | undefined>;
  /** A manager's change of status, role or muting: one update and its audit entry, together. */
  manage(
    id: string,
    changes: { status?: 'active' | 'blocked'; role?: ParticipantRole; muted?: boolean },
    actor: string,
  ): Promise<Participant | undefined>;
  /** Marks a chat unreachable (user blocked the bot); the sender stops sending to it. */
  markUnreachable(identity: { channel: ChannelId; externalId: string }, reason: string, db?: Db): Promise<void>;
  /** Erases personal data (name, phone, store, profile, identities, conversation); ledger rows stay, anonymous. */
  erase(id: string, db?: Db): Promise<void>;
  /** Participants with a role (e.g. moderators to notify of a receipt to review). */
  withRole(role: ParticipantRole, programId?: string, db?: Db): Promise<Participant[]>;
  program(programId?: string, db?: Db): Promise<ProgramInfo>;
  defaultProgramId(db?: Db): Promise<string>;
}

/**
 * Runs inside the erasure's transaction, for personal data other features keep (receipt photos,
 * delivery addresses): they register here instead of this service importing them.
 */
export type ErasureHook = (db: Db, participantId: string) => Promise<unknown>;

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

  const defaultProgramId = async (db: Db = sql) => {
    if (!defaultProgram) {
      const row = await repo.programBySlug(db, 'default');
      if (!row) throw new Error('The default program is missing (migration 0001)');
      defaultProgram = row.id;
    }
    return defaultProgram;
  };

  const program = async (programId?: string, db: Db = sql): Promise<ProgramInfo> => {
    const row = await repo.programById(db, programId ?? (await defaultProgramId(db)));
    if (!row) throw new Error(`Program ${programId} not found`);
    return toProgramInfo(row, deps.defaultLocale);
  };

  const service: ParticipantsService = {
    getById: (id, db = sql) => repo.getById(db, id),
    async findByIdentity(identity, db = sql) {
      const programId = identity.programId ?? (await defaultProgramId(db));
      const row = await repo.findIdentity(db, programId, identity.channel, identity.externalId);
      return row?.participantId ? repo.getById(db, row.participantId) : undefined;
    },
    async list(query, db = sql) {
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
    identities: (participantId, db = sql) => repo.identitiesOf(db, participantId),
    async locale(participant, db = sql) {
      const [identity] = await repo.identitiesOf(db, participant.id);
      const p = await program(participant.programId, db);
      return localeOf({ participant, identity, fallback: p.defaultLocale });
    },
    setRole: (id, role, db = sql) => repo.update(db, id, { role }),
    setLocale: (id, locale, db = sql) => repo.update(db, id, { locale }),
    setStatus: (id, status, db = sql) => repo.update(db, id, { status }),
    setMuted: (id, muted, db = sql) => repo.update(db, id, { muted }),
    manage: (id, changes, actor) =>
      sql.begin(async (tx) => {
        const updated = await repo.update(tx, id, changes);
        if (updated) await audit(tx, actor, 'participant.update', `participant:${id}`, changes);
        return updated;
      }) as Promise<Participant | undefined>,
    async markUnreachable(identity, reason, db = sql) {
      await repo.markUnreachable(db, identity.channel, identity.externalId, reason);
    },
    async erase(id, db = sql) {
      const run = async (tx: Db) => {
        await repo.lockById(tx, id);
        await repo.update(tx, id, {
          status: 'erased',
          name: null,
          phone: null,
          phoneVerified: false,
          store: null,
          profile: {},
          erasedAt: clock.now(),
        });
        // The web chat's stored messages and uploads are personal data of those chats too.
        const webChats = (await repo.identitiesOf(tx, id)).filter((i) => i.channel === 'web').map((i) => i.chatId);
        if (webChats.length) {
          await tx`delete from web_messages where chat_id = any(${webChats})`;
          await tx`delete from web_uploads where chat_id = any(${webChats})`;
        }
        const identityIds = await repo.deleteIdentitiesOf(tx, id);
        // Delivered messages may quote personal data; what is still waiting (the goodbye) is kept.
        await tx`delete from outbox where participant_id = ${id} and status <> 'pending'`;
        if (identityIds.length) await tx`delete from conversations where identity_id = any(${identityIds})`;
        for (const hook of deps.onErase ?? []) await hook(tx, id);
      };
      if (db === sql) await sql.begin((tx) => run(tx));
      else await run(db);
    },
    async withRole(role, programId, db = sql) {
      const pid = programId ?? (await defaultProgramId(db));
      const { items } = await repo.list(db, { programId: pid, role, status: 'active', limit: 1000, offset: 0 });
      return items;
    },
    program,
    defaultProgramId,
  };
  return service;
}

export { toProgramInfo };
