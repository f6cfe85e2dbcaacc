/**
 * One message's turn inside the engine: everything the flows need, gathered once per transaction
 * attempt (a retried transaction starts a fresh turn). Only the router changes it, by applying
 * what the flows return.
 */
import type { Db } from '../db/sql.js';
import type { Locale, Translate } from '../i18n/index.js';
import type { ChannelIdentityRow, Participant, ProgramInfo } from '../domain/participants/index.js';
import type { Inbound, Outbound } from './types.js';
import type { ConversationState, StepState } from './flow.js';

export type { ConversationState };

export interface Turn {
  db: Db;
  inbound: Inbound;
  identity: ChannelIdentityRow;
  program: ProgramInfo;
  participant: Participant | null;
  state: ConversationState;
  locale: Locale;
  t: Translate;
  replies: Outbound[];
  afterCommit: Array<() => Promise<unknown> | unknown>;
  /** Set by /delete: the identity and its conversation are gone, nothing is saved. */
  erased: boolean;
  reply(message: Outbound | string): void;
}

export { asOutbound } from './flows/chat-draft.js';

export function parseState(raw: Record<string, unknown>): ConversationState {
  const step = raw.step as StepState | null | undefined;
  return {
    step: step && typeof step.step === 'string' ? step : null,
    pre: (raw.pre as ConversationState['pre']) ?? undefined,
    startPayload: typeof raw.startPayload === 'string' ? raw.startPayload : undefined,
  };
}
