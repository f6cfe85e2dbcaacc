/**
 * The message transaction: one inbound message → one Postgres transaction holding its inbox row,
 * the conversation state, the effects of the flows and the replies (outbox rows).
 *
 * - Duplicates: the inbox row is unique on (channel, message id); a repeated delivery is
 *   acknowledged (`duplicate`) and changes nothing.
 * - Order: the chat identity's row is locked for the transaction (upsert … returning), so the
 *   messages of one conversation are handled one at a time across processes, in lock order.
 * - Retries: the whole transaction is re-run on deadlock / serialization failure (and on losing a
 *   race for the same verified phone), with the same inputs and so the same idempotency keys.
 * - Group commit (group-commit.ts): under load, the messages that queued up while earlier ones
 *   were committing share one transaction, handled concurrently with their statements pipelined on
 *   its connection (db/shared-transaction.ts keeps savepoints apart). If any of them fails, for
 *   whatever reason, the batch is rolled back and each of its messages is handled alone, exactly
 *   as without batching, so a batch never changes an outcome, only the cost of reaching it.
 * - After commit, `onCommitted` pokes the sender. Nothing in the message's transaction NOTIFYs:
 *   Postgres serialises the commits of notifying transactions on one global lock (README,
 *   Performance). The sender's sweeper remains the safety net for a poke that is lost.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type postgres from 'postgres';
import { isRetryable, isUniqueViolation, type Sql } from '../db/sql.js';
import { isUnavailable } from '../db/availability.js';
import { incident } from '../shared/incidents.js';
import { shareTransaction } from '../db/shared-transaction.js';
import { CommittedWithoutLast, pipelinedTransaction, type Finished } from '../db/pipelined-transaction.js';
import type { Logger } from '../shared/logger.js';
import type { ChannelIdentityRow, Participant } from '../domain/participants/index.js';
import type { ChannelId, Inbound, Outbound } from './types.js';
import { createGroupCommit, type GroupCommitOptions, type Submitted } from './group-commit.js';
import { preloadMedia } from './media.js';
import { insertReply, openConversations, openForFailure, writeTurns, type HandledTurn, type OpenedConversation } from './state-store.js';
import type { Turn } from './turn.js';
import { backoff } from '../shared/retry.js';

type Tx = postgres.TransactionSql<Record<string, unknown>>;
export type Received = { status: 'handled' | 'duplicate' };

export interface MessageTransactionDeps {
  sql: Sql;
  logger: Logger;
  programSlug: string;
  /** Runs the flows on an opened conversation; nothing of the turn is written yet. */
  handle(inbound: Inbound, opened: OpenedConversation & { accepted: true }, tx: Tx): Promise<HandledTurn>;
  /** The "something went wrong" reply, in the language of the chat a failed message came from. */
  apology(who: { participant?: Participant; identity?: ChannelIdentityRow }): Outbound;
  mediaTimeoutMs?: number;
  groupCommit?: Partial<GroupCommitOptions>;
  onCommitted?: (chats: Array<{ channel: ChannelId; chatId: string }>) => void;
}

const MAX_ATTEMPTS = 8;

/**
 * A batch's statements over arrays (batched.ts) are planned once, generically: with the default
 * plan_cache_mode Postgres would re-plan them for batches shorter than its guess of ten rows, and
 * every statement here is a keyed read or write, for which the generic plan is the custom one.
 */
const BATCH_TRANSACTION = { settings: { plan_cache_mode: 'force_generic_plan' } };

/** Thrown inside the transaction to roll back a repeated delivery. */
const DUPLICATE = new Error('duplicate inbound message');

export function createMessageTransaction(deps: MessageTransactionDeps): { receive(inbound: Inbound): Promise<Received>; backlogMs(): number } {
  const { logger, programSlug } = deps;

  const group = createGroupCommit<Inbound, Received>(
    { maxInFlight: deps.groupCommit?.maxInFlight ?? 2, maxBatch: deps.groupCommit?.maxBatch ?? 32 },
    runBatch,
  );

  function receive(received: Inbound): Promise<Received> {
    // Queued at once, in the chat's order, while a photo downloads outside any transaction.
    return group.submit(preloadMedia(received, deps.mediaTimeoutMs ?? 20_000), `${received.from.channel}:${received.from.externalId}`);
  }

  /** One message alone in its transaction: open, handle, write (the COMMIT follows the writes). */
  async function runOnce(inbound: Inbound, tx: Tx): Promise<Finished<Turn>> {
    const [opened] = await openConversations(tx, programSlug, [inbound]);
    // A repeated delivery changes nothing.
    if (!opened!.accepted) throw DUPLICATE;
    const done = await deps.handle(inbound, opened!, tx);
    return { value: done.turn, last: writeTurns(tx, [done]) };
  }

  async function runBatch(batch: Array<Submitted<Inbound, Received>>): Promise<void> {
    const alone = () => Promise.all(batch.map((m) => receiveAlone(m.item).then(m.resolve, m.reject)));
    if (batch.length === 1) return void (await alone());
    // In chat order, so two processes that batch the same chats lock them in the same order.
    const members = [...batch].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    let outcome: Array<HandledTurn | null>;
    try {
      outcome = await pipelinedTransaction(
        deps.sql,
        async (tx) => {
          const opened = await openConversations(tx, programSlug, members.map((m) => m.item));
          const shared = shareTransaction(tx);
          // Two waves: the second half starts a turn later, so the first half's statements are on
          // their way to the server while this thread computes the second half (README, Performance).
          const firstWave = members.length >= 4 ? Math.ceil(members.length / 2) : members.length;
          // allSettled, not all: the transaction must not end while a member still has statements
          // on its connection (they would run after the ROLLBACK, outside any transaction).
          const settled = await Promise.allSettled(
            members.map((m, i) => {
              const o = opened[i]!;
              if (!o.accepted) return null;
              const run = () => deps.handle(m.item, o, shared.member());
              return i < firstWave ? run() : nextTurn().then(run);
            }),
          );
          const failed = settled.find((s) => s.status === 'rejected');
          if (failed) throw failed.reason;
          const done = settled.map((s) => (s as PromiseFulfilledResult<HandledTurn | null>).value);
          return { value: done, last: writeTurns(tx, done.filter((d): d is HandledTurn => d !== null)) };
        },
        BATCH_TRANSACTION,
      );
    } catch (error) {
      if (error instanceof CommittedWithoutLast) {
        // Committed: running the messages again would only find them in the inbox.
        logger.error({ err: error, size: batch.length }, 'batch committed without its states or replies');
        outcome = error.value as Array<HandledTurn | null>;
      } else {
        // The database away or the batch past its deadline: one incident line, not one per batch.
        if (isUnavailable(error)) incident(logger, 'database').fail(error, { via: 'message batch', size: batch.length });
        else logger.debug({ err: error, size: batch.length }, 'batch rolled back: its messages run alone');
        await alone();
        return;
      }
    }
    members.forEach((m, i) => {
      const done = outcome[i];
      if (done) afterCommit(done.turn);
      m.resolve({ status: done ? 'handled' : 'duplicate' });
    });
  }

  async function receiveAlone(inbound: Inbound): Promise<Received> {
    for (let attempt = 1; ; attempt++) {
      try {
        const turn = await pipelinedTransaction(deps.sql, (tx) => runOnce(inbound, tx));
        afterCommit(turn);
        return { status: 'handled' };
      } catch (error) {
        if (error === DUPLICATE) return { status: 'duplicate' };
        if (error instanceof CommittedWithoutLast) {
          logger.error({ err: error, channel: inbound.from.channel, messageId: inbound.messageId }, 'message committed without its state or replies');
          afterCommit(error.value as Turn);
          return { status: 'handled' };
        }
        const race = isUniqueViolation(error, 'participants_verified_phone');
        if ((isRetryable(error) || race) && attempt < MAX_ATTEMPTS) {
          await backoff(attempt);
          continue;
        }
        if (isRetryable(error) || isUnavailable(error)) throw error;
        return failed(inbound, error);
      }
    }
  }

  function afterCommit(turn: Turn): void {
    deps.onCommitted?.([{ channel: turn.identity.channel, chatId: turn.identity.chatId }]);
    for (const fn of turn.afterCommit) {
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => logger.error({ err }, 'after-commit hook failed'));
    }
  }

  /**
   * A bug in a flow: the message is recorded as handled (so the platform does not re-deliver it
   * forever) and the person gets a friendly "something went wrong" in their language.
   */
  async function failed(inbound: Inbound, error: unknown): Promise<Received> {
    logger.error({ err: error, channel: inbound.from.channel, messageId: inbound.messageId }, 'dialog turn failed');
    const status = await deps.sql.begin(async (tx) => {
      const found = await openForFailure(tx, programSlug, inbound);
      if (!found.accepted) return 'duplicate' as const;
      const { program, identity, participant } = found;
      const message = deps.apology({ ...(participant ? { participant } : {}), ...(identity ? { identity } : {}) });
      if (program) {
        await insertReply(tx, { programId: program.id, inbound, identityId: identity?.id ?? null, participantId: participant?.id ?? null }, message);
      }
      return 'handled' as const;
    });
    if (status === 'handled') deps.onCommitted?.([{ channel: inbound.from.channel, chatId: inbound.from.chatId ?? inbound.from.externalId }]);
    return { status };
  }

  return { receive, backlogMs: () => group.oldestMs() };
}
