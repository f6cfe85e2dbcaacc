/**
 * What the dialog layer reads and writes of a conversation itself, in one place: the opening read
 * (inbox dedupe, identity lock, program, participant, state: one round trip), the final writes
 * (states and replies), and what the failure reply needs to find its chat.
 */
import { jsonText, type Db } from '../db/sql.js';
import * as conversations from '../db/participants/conversations-repo.js';
import * as participants from '../db/participants/participants-repo.js';
import * as outbox from '../db/outbox/repo.js';
import type { ChannelIdentityRow, Participant } from '../domain/participants/index.js';
import type { Inbound, Outbound } from './types.js';
import type { Turn } from './turn.js';

export type OpenedConversation = conversations.OpenedConversation;
export type ProgramRow = participants.ProgramRow;

/** A turn the flows have run, with the state as it was loaded (written only if it changed). */
export interface HandledTurn {
  turn: Turn;
  stateBefore: string;
}

const openingOf = (inbound: Inbound): conversations.OpeningInput => ({
  channel: inbound.from.channel,
  externalId: inbound.from.externalId,
  chatId: inbound.from.chatId ?? inbound.from.externalId,
  messageId: inbound.messageId,
  displayName: inbound.from.displayName,
  localeHint: inbound.from.localeHint,
  verifiedPhone: inbound.from.verifiedPhone,
});

/** Opens the messages' conversations, answering in the order given (give a batch sorted by chat). */
export function openConversations(db: Db, programSlug: string, inbounds: readonly Inbound[]): Promise<OpenedConversation[]> {
  return conversations.openConversations(db, programSlug, inbounds.map(openingOf));
}

/**
 * The states and replies of one or more turns: the transaction's final statements, with the
 * COMMIT right behind them. Not async, so a state or reply that cannot be stored throws out of
 * the body and rolls back (src/db/pipelined-transaction.ts says why).
 */
export function writeTurns(db: Db, done: readonly HandledTurn[]): Promise<void> {
  const states: Array<{ identityId: string; stateJson: string }> = [];
  for (const { turn, stateBefore } of done) {
    if (turn.erased) continue;
    const stateJson = jsonText(turn.state);
    if (stateJson !== stateBefore) states.push({ identityId: turn.identity.id, stateJson });
  }
  const replies = done.flatMap(({ turn }) =>
    turn.replies.map((message) => ({
      programId: turn.program.id,
      channel: turn.identity.channel,
      externalId: turn.identity.externalId,
      chatId: turn.identity.chatId,
      identityId: turn.erased ? null : turn.identity.id,
      participantId: turn.erased ? null : (turn.participant?.id ?? null),
      kind: 'reply' as const,
      message,
    })),
  );
  return Promise.all([conversations.saveStates(db, states), outbox.insertReplies(db, replies)]).then(() => undefined);
}

/** Whom a failed message's apology goes to: its inbox row taken (false: a repeated delivery), its chat's program, identity and participant. */
export async function openForFailure(
  db: Db,
  programSlug: string,
  inbound: Inbound,
): Promise<{ accepted: false } | { accepted: true; program?: ProgramRow; identity?: ChannelIdentityRow; participant?: Participant }> {
  if (!(await conversations.acceptInbox(db, inbound.from.channel, inbound.messageId))) return { accepted: false };
  const program = await participants.programBySlug(db, programSlug);
  const identity = program ? await participants.findIdentity(db, program.id, inbound.from.channel, inbound.from.externalId) : undefined;
  const participant = identity?.participantId ? await participants.getById(db, identity.participantId) : undefined;
  return { accepted: true, program, identity, participant };
}

/** One reply to a chat outside any turn (the failure apology). */
export async function insertReply(
  db: Db,
  to: { programId: string; inbound: Inbound; identityId: string | null; participantId: string | null },
  message: Outbound,
): Promise<void> {
  const { inbound } = to;
  await outbox.insertReplies(db, [
    {
      programId: to.programId,
      channel: inbound.from.channel,
      externalId: inbound.from.externalId,
      chatId: inbound.from.chatId ?? inbound.from.externalId,
      identityId: to.identityId,
      participantId: to.participantId,
      kind: 'reply',
      message,
    },
  ]);
}
