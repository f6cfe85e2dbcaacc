/**
 * The outbox: the one way anything in Punkto sends a message to a participant.
 *
 * `enqueueOutbound(db, …)` inserts a row on the caller's transaction, so a message exists exactly
 * when the effect that caused it committed. The sender (src/jobs/outbox) delivers rows with the
 * channel's rate limits, replies and notices before broadcasts, and in order per chat. It is
 * poked through Postgres NOTIFY on commit, so no caller has to poke it; a sweeper also picks up
 * anything a poke missed.
 *
 *   await enqueueOutbound(tx, {
 *     participantId, kind: 'notice', dedupeKey: `receipt:${id}:approved`,
 *     message: (t) => ({ text: t('receipts:approved', { n: points }) }),   // in their language
 *   });
 */
import type { Db } from '../../db/sql.js';
import type { ChannelAddress, Outbound } from '../../shared/messages.js';
import type { Locale, Translate } from '../../i18n/index.js';
import * as outbox from '../../db/outbox/repo.js';
import * as repo from '../../db/participants/participants-repo.js';
import { localeOf } from '../participants/locale.js';
import { toProgramInfo } from '../participants/program.js';

export type OutboxKind = outbox.OutboxKind;

/** A message, or a function building it in the recipient's language (resolved at enqueue time). */
export type OutboundInput = Outbound | ((t: Translate, locale: Locale) => Outbound);

export interface EnqueueInput {
  /** A participant (sent to their most recently used reachable chat), or an exact chat address. */
  participantId?: string;
  address?: ChannelAddress;
  message: OutboundInput;
  /** reply: answer to an inbound message; notice: unprompted but personal; broadcast: bulk. */
  kind: OutboxKind;
  /** The same key twice enqueues once (e.g. `broadcast:<id>:<participant>`). */
  dedupeKey?: string;
  /** Defaults to the participant's program, else the 'default' program. */
  programId?: string;
}

export type EnqueueResult =
  | { status: 'queued'; outboxId: number }
  /** The dedupe key was used before: nothing new was queued. */
  | { status: 'duplicate' }
  /** No chat to send to: no identity, or every identity is unreachable (recorded as such). */
  | { status: 'unreachable'; outboxId?: number }
  | { status: 'no_participant' };

export type EnqueueOutbound = (db: Db, input: EnqueueInput) => Promise<EnqueueResult>;

/**
 * Builds `enqueueOutbound`. `translate(locale)` gives a `t` for the function form of messages;
 * `defaultLocale` is the fallback language.
 */
export function createEnqueueOutbound(deps: { translate: (locale: Locale) => Translate; defaultLocale: Locale }): EnqueueOutbound {
  return async (db, input) => {
    let programId = input.programId;
    let participantId = input.participantId ?? null;
    let address = input.address;
    let identityId: string | null = null;
    let unreachable: string | undefined;
    let locale: Locale = deps.defaultLocale;

    if (participantId) {
      const participant = await repo.getById(db, participantId);
      if (!participant || participant.status === 'erased') return { status: 'no_participant' };
      programId ??= participant.programId;
      const identities = await repo.identitiesOf(db, participantId);
      const target = address
        ? identities.find((i) => i.channel === address!.channel && i.chatId === address!.chatId)
        : (identities.find((i) => !i.unreachableAt) ?? identities[0]);
      if (target) {
        identityId = target.id;
        address ??= { channel: target.channel, externalId: target.externalId, chatId: target.chatId };
        if (target.unreachableAt) unreachable = target.unreachableReason ?? 'unreachable';
      }
      const program = await repo.programById(db, participant.programId);
      const fallback = program ? toProgramInfo(program, deps.defaultLocale).defaultLocale : deps.defaultLocale;
      locale = localeOf({ participant, identity: target, fallback });
    } else if (address) {
      programId ??= (await repo.programBySlug(db, 'default'))!.id;
      const identity = await repo.findIdentity(db, programId, address.channel, address.externalId);
      if (identity) {
        identityId = identity.id;
        participantId = identity.participantId;
        if (identity.unreachableAt) unreachable = identity.unreachableReason ?? 'unreachable';
        const participant = identity.participantId ? await repo.getById(db, identity.participantId) : undefined;
        locale = localeOf({ participant, identity, fallback: deps.defaultLocale });
      }
    }
    if (!address) return { status: 'unreachable' };
    programId ??= (await repo.programBySlug(db, 'default'))!.id;

    const message = typeof input.message === 'function' ? input.message(deps.translate(locale), locale) : input.message;
    const id = await outbox.insert(db, {
      programId,
      channel: address.channel,
      externalId: address.externalId,
      chatId: address.chatId,
      identityId,
      participantId,
      kind: input.kind,
      message,
      dedupeKey: input.dedupeKey,
      ...(unreachable ? { status: 'unreachable' as const, lastError: unreachable } : {}),
    });
    if (id === undefined) return { status: 'duplicate' };
    return unreachable ? { status: 'unreachable', outboxId: id } : { status: 'queued', outboxId: id };
  };
}
