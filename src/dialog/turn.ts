/**
 * One message's turn inside the engine: everything the built-in steps need, gathered once per
 * transaction attempt (a retried transaction starts a fresh turn).
 */
import type { Db } from '../db/sql.js';
import type { Locale, Translate } from '../i18n/index.js';
import type { ChannelIdentityRow, Participant, ProgramInfo } from '../domain/participants/index.js';
import type { Inbound, Outbound } from './types.js';
import type { StepState } from './flow.js';

/** What is kept per chat in conversations.state. */
export interface ConversationState {
  /** Where the conversation waits (null: main menu / idle). */
  step: StepState | null;
  /** Before a participant exists: language picked and consent given in this chat. */
  pre?: { locale?: Locale; consentAt?: string; consentVersion?: string };
  /** A `/start <payload>` deep link waiting for registration to finish. */
  startPayload?: string;
}

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

export const asOutbound = (m: Outbound | string): Outbound => (typeof m === 'string' ? { text: m } : m);

export function parseState(raw: Record<string, unknown>): ConversationState {
  const step = raw.step as StepState | null | undefined;
  return {
    step: step && typeof step.step === 'string' ? step : null,
    pre: (raw.pre as ConversationState['pre']) ?? undefined,
    startPayload: typeof raw.startPayload === 'string' ? raw.startPayload : undefined,
  };
}
