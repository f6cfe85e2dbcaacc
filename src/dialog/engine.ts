/**
 * The conversation engine, assembled: the message transaction (message-transaction.ts: inbox,
 * group commit, pipelined transaction, state, replies, after-commit) runs each message's turn,
 * which the router (router.ts) hands to the flows: the built-in ones (flows/system,
 * flows/registration) and the feature modules.
 */
import type postgres from 'postgres';
import type { Sql } from '../db/sql.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { I18n, Locale } from '../i18n/index.js';
import { localeOf, toProgramInfo, type ParticipantsService } from '../services/participants/index.js';
import type { EnqueueOutbound } from '../services/outbox/index.js';
import type { ChannelId, Inbound } from './types.js';
import type { GroupCommitOptions } from './group-commit.js';
import { createFlows, type Flows } from './flow.js';
import { asOutbound, parseState, type ConversationState, type Turn } from './turn.js';
import { createRouter } from './router.js';
import { createMessageTransaction, type Received } from './message-transaction.js';
import type { HandledTurn, OpenedConversation } from './state-store.js';
import type { BalanceSource } from './flows/system/balance-source.js';

export interface DialogEngineDeps {
  sql: Sql;
  i18n: I18n;
  participants: ParticipantsService;
  enqueueOutbound: EnqueueOutbound;
  flows?: Flows;
  /** "My balance" and /mydata: the ledger and what features add to it. */
  balances?: BalanceSource;
  clock?: Clock;
  logger: Logger;
  defaultLocale: Locale;
  /** Program the channels serve (slug); 'default'. */
  programSlug?: string;
  /** Longest wait for a photo's download before the message is handled (default 20 s). */
  mediaTimeoutMs?: number;
  /** Group commit limits (defaults: 2 batches at once, 32 messages each). */
  groupCommit?: Partial<GroupCommitOptions>;
  /** Called after a message's transaction committed with the chats it wrote to (pokes the sender). */
  onCommitted?: (chats: Array<{ channel: ChannelId; chatId: string }>) => void;
}

export interface DialogEngine {
  /**
   * Handles one inbound message. Resolves once its effects and replies are committed; rejects only
   * when the database is unavailable (the channel should then let the platform re-deliver).
   */
  receive(inbound: Inbound): Promise<Received>;
  /** How long the oldest message not yet committed has waited (ms); /readyz reads it. */
  backlogMs(): number;
}

type Tx = postgres.TransactionSql<Record<string, unknown>>;

export function createDialogEngine(deps: DialogEngineDeps): DialogEngine {
  const programSlug = deps.programSlug ?? 'default';
  // One fixed-language t per locale for the engine's lifetime, not one per message.
  const fixedT = new Map<Locale, ReturnType<I18n['t']>>();
  const translate = (l: Locale) => {
    let t = fixedT.get(l);
    if (!t) fixedT.set(l, (t = deps.i18n.t(l)));
    return t;
  };
  const router = createRouter({
    flows: deps.flows ?? createFlows([]),
    services: { participants: deps.participants, enqueueOutbound: deps.enqueueOutbound },
    ...(deps.balances ? { balances: deps.balances } : {}),
    translate,
    clock: deps.clock ?? systemClock,
    logger: deps.logger,
  });

  async function handle(inbound: Inbound, opened: OpenedConversation & { accepted: true }, tx: Tx): Promise<HandledTurn> {
    if (!opened.program || !opened.identity) throw new Error(`Program "${programSlug}" not found`);
    let participant = opened.identity.participantId ? (opened.participant ?? null) : null;
    if (participant?.status === 'erased') participant = null;
    const state = parseState(opened.state);
    // Most messages leave the state as it was (a code sent from the menu): then nothing is written.
    const stateBefore = JSON.stringify(state);
    const turn: Turn = {
      db: tx,
      inbound,
      identity: opened.identity,
      program: toProgramInfo(opened.program, deps.defaultLocale),
      participant,
      state,
      locale: deps.defaultLocale,
      t: translate(deps.defaultLocale),
      replies: [],
      afterCommit: [],
      erased: false,
      reply(m) {
        const out = asOutbound(m);
        if (out.text || out.image) this.replies.push(out);
      },
    };
    router.relocalize(turn);
    await router.route(turn);
    return { turn, stateBefore };
  }

  const transaction = createMessageTransaction({
    sql: deps.sql,
    logger: deps.logger,
    programSlug,
    handle,
    apology: ({ participant, identity }) => ({
      text: translate(localeOf({ participant, identity, fallback: deps.defaultLocale }))('common:error_generic'),
    }),
    ...(deps.mediaTimeoutMs !== undefined ? { mediaTimeoutMs: deps.mediaTimeoutMs } : {}),
    ...(deps.groupCommit ? { groupCommit: deps.groupCommit } : {}),
    ...(deps.onCommitted ? { onCommitted: deps.onCommitted } : {}),
  });

  return { receive: transaction.receive, backlogMs: transaction.backlogMs };
}

export type { ConversationState };
