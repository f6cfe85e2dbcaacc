/**
 * Broadcasts as use cases: compose (now or at a time), preview the audience, follow the counts,
 * pause / resume / cancel, send a test to the manager first, and mute / unmute for participants.
 *
 * Creating a broadcast only writes its row; the jobs layer fans it out into one delivery row per
 * recipient and sends them (src/jobs/broadcasts). `kick` tells the jobs layer to look now rather
 * than at its next tick; call it after the creating transaction committed.
 */
import type { Db, Sql } from '../../db/sql.js';
import { formatDate, type Locale, type Translate } from '../../i18n/index.js';
import { ownLocalized } from '../../shared/locale.js';
import type { EnqueueOutbound } from '../outbox/enqueue-outbound.js';
import * as repo from '../../db/broadcasts/repo.js';
import * as deliveries from '../../db/broadcasts/deliveries-repo.js';
import * as managersRepo from '../../db/participants/managers-repo.js';
import * as participantsRepo from '../../db/participants/participants-repo.js';
import * as programsRepo from '../../db/programs/repo.js';
import { AppError } from '../../shared/errors.js';
import type { ChannelId } from '../../shared/messages.js';
import {
  renderFor,
  type Audience,
  type Broadcast,
  type BroadcastButton,
  type BroadcastCounts,
  type BroadcastStatus,
  type LocalizedText,
} from '../../domain/broadcasts/index.js';

export type { Audience, Broadcast, BroadcastButton, BroadcastCounts, BroadcastStatus, LocalizedText };

/**
 * Renders template keys of automatic broadcasts for one reader: the campaign's name in their
 * language (`names`), and `endsOn`, the last day of `endsAt` in the program's time zone (`timeZone`;
 * rows written before it was stored read in Warsaw time, as they always did).
 */
export function templateTranslator(t: Translate, locale: Locale): (key: string, params: Record<string, unknown>) => string {
  return (key, params) => {
    const names = params.names as Record<string, string> | undefined;
    const name = (names && ownLocalized(names, locale)) || params.name;
    const endsAt = typeof params.endsAt === 'string' ? params.endsAt : undefined;
    const timeZone = typeof params.timeZone === 'string' ? params.timeZone : undefined;
    return String(t(key, { ...params, name, ...(endsAt ? { endsOn: formatDate(locale, endsAt, timeZone) } : {}) }));
  };
}

export interface ComposeInput {
  programId?: string;
  message: LocalizedText;
  audience?: Audience;
  sendAt?: Date;
  image?: { url?: string; mediaKey?: string };
  buttons?: BroadcastButton[];
  /** Who asked (token name, `participant:<id>`), for the record. */
  createdBy?: string;
}

export interface BroadcastView extends BroadcastCounts {
  id: string;
  kind: Broadcast['kind'];
  status: BroadcastStatus;
  sendAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Rows still being written by the fan-out (`total` grows until this is true). */
  fanoutDone: boolean;
}

export type ControlResult =
  | { status: 'ok'; broadcast: BroadcastView }
  | { status: 'not_found' }
  | { status: 'invalid_state'; current: BroadcastStatus };

export type TestSendResult = { status: 'queued' } | { status: 'not_found' } | { status: 'no_participant' } | { status: 'unreachable' };

export interface BroadcastsService {
  create(db: Db, input: ComposeInput): Promise<Broadcast>;
  get(db: Db, id: string): Promise<BroadcastView | undefined>;
  countAudience(db: Db, audience: Audience, programId?: string): Promise<number>;
  pause(id: string): Promise<ControlResult>;
  resume(id: string): Promise<ControlResult>;
  cancel(id: string): Promise<ControlResult>;
  /** Sends the broadcast's message to one participant (the manager) now, in their language, muted or not. */
  testSend(db: Db, id: string, participantId: string): Promise<TestSendResult>;
  /** Mutes (true) or unmutes announcements; false when nothing changed. */
  setMuted(db: Db, participantId: string, muted: boolean): Promise<boolean>;
  /** Ask the jobs layer to fan out / send now (after commit). */
  kick(id: string): Promise<void>;
  /** Managers' chats on a channel and their language (for a command menu showing /broadcast). */
  managerChats(channel: ChannelId): Promise<Array<{ chatId: string; locale: Locale }>>;
}

export interface BroadcastsDeps {
  sql: Sql;
  enqueueOutbound: EnqueueOutbound;
  defaultLocale: Locale;
  /** Set by the jobs layer (main.ts); without it the next tick picks the broadcast up. */
  kick?: (id: string) => Promise<void>;
}

export function createBroadcasts(deps: BroadcastsDeps): BroadcastsService {
  async function programId(db: Db, given?: string): Promise<string> {
    if (given) return given;
    const p = await participantsRepo.programBySlug(db, 'default');
    if (!p) throw new AppError('internal', 'The default program is missing');
    return p.id;
  }

  async function view(db: Db, b: Broadcast): Promise<BroadcastView> {
    const c = await deliveries.counts(db, b.id);
    return {
      id: b.id,
      kind: b.kind,
      status: b.status,
      sendAt: b.sendAt,
      createdAt: b.createdAt,
      startedAt: b.startedAt,
      finishedAt: b.finishedAt,
      fanoutDone: b.fanoutDone,
      ...c,
    };
  }

  async function control(id: string, from: BroadcastStatus[], to: (b: Broadcast) => BroadcastStatus, after?: (b: Broadcast) => Promise<void>): Promise<ControlResult> {
    return deps.sql.begin(async (tx) => {
      const current = await repo.lockById(tx, id);
      if (!current) return { status: 'not_found' as const };
      if (!from.includes(current.status)) return { status: 'invalid_state' as const, current: current.status };
      const changed = (await repo.transition(tx, id, [current.status], to(current)))!;
      await after?.(changed);
      return { status: 'ok' as const, broadcast: await view(tx, changed) };
    }) as Promise<ControlResult>;
  }

  const service: BroadcastsService = {
    async create(db, input) {
      const texts = Object.fromEntries(Object.entries(input.message).filter(([, v]) => typeof v === 'string' && v.trim())) as LocalizedText;
      if (Object.keys(texts).length === 0) throw new AppError('invalid_input', 'The message needs a text in at least one language');
      const b = await repo.insert(db, {
        programId: await programId(db, input.programId),
        kind: 'manual',
        message: { texts },
        image: input.image ?? null,
        buttons: input.buttons ?? null,
        audience: input.audience ?? {},
        sendAt: input.sendAt,
        createdBy: input.createdBy,
      });
      return b!;
    },
    async get(db, id) {
      const b = await repo.getById(db, id);
      return b && view(db, b);
    },
    async countAudience(db, audience, program) {
      return repo.countAudience(db, await programId(db, program), audience);
    },
    pause: (id) => control(id, ['scheduled', 'fanning_out', 'sending'], () => 'paused'),
    async resume(id) {
      const r = await control(id, ['paused'], (b) => (b.fanoutDone ? 'sending' : b.startedAt ? 'fanning_out' : 'scheduled'));
      if (r.status === 'ok') await service.kick(id);
      return r;
    },
    cancel: (id) =>
      control(
        id,
        ['scheduled', 'fanning_out', 'sending', 'paused'],
        () => 'cancelled',
        async (b) => {
          await deliveries.cancelQueued(deps.sql, b.id);
        },
      ),
    async testSend(db, id, participantId) {
      const b = await repo.getById(db, id);
      if (!b) return { status: 'not_found' };
      const programDefault = await programsRepo.programDefaultLocale(db, b.programId);
      let empty = false;
      const r = await deps.enqueueOutbound(db, {
        participantId,
        kind: 'notice',
        message: (t: Translate, locale: Locale) => {
          const out = renderFor(b, { locale }, programDefault, templateTranslator(t, locale));
          if (!out) empty = true;
          return out ?? { text: '' };
        },
      });
      if (empty) return { status: 'not_found' };
      if (r.status === 'no_participant') return { status: 'no_participant' };
      if (r.status === 'unreachable') return { status: 'unreachable' };
      return { status: 'queued' };
    },
    setMuted: (db, participantId, muted) => participantsRepo.setMuted(db, participantId, muted),
    async kick(id) {
      await deps.kick?.(id);
    },
    managerChats: (channel) => managersRepo.managerChats(deps.sql, channel),
  };
  return service;
}
