/**
 * The conversation engine: one inbound message → one Postgres transaction holding its inbox row,
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
 * - After commit, `onCommitted` pokes the sender (in-process, or across processes as main.ts wires
 *   it). Nothing in the message's transaction NOTIFYs: Postgres serialises the commits of notifying
 *   transactions on one global lock, which capped the whole inbound path at one commit (and fsync)
 *   at a time. The sender's sweeper remains the safety net for a poke that is lost.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type postgres from 'postgres';
import { isRetryable, isUniqueViolation, jsonText, type Sql } from '../db/sql.js';
import { isUnavailable } from '../db/availability.js';
import { incident } from '../shared/incidents.js';
import { shareTransaction } from '../db/shared-transaction.js';
import { CommittedWithoutLast, pipelinedTransaction, type Finished } from '../db/pipelined-transaction.js';
import { systemClock, type Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { I18n, Locale } from '../i18n/index.js';
import { isRegistered, type ChannelIdentityRow } from '../domain/participants/index.js';
import * as repo from '../db/participants/participants-repo.js';
import * as outbox from '../db/participants/outbox-repo.js';
import { localeOf, toProgramInfo } from '../services/participants/index.js';
import type { ParticipantsService } from '../services/participants/index.js';
import type { EnqueueOutbound } from './outbox.js';
import type { ChannelId, Inbound, Outbound } from './types.js';
import { createGroupCommit, type GroupCommitOptions, type Submitted } from './group-commit.js';
import { createFlows, type FlowContext, type FlowTurn, type Flows, type StepState } from './flow.js';
import { asOutbound, parseState, type ConversationState, type Turn } from './turn.js';
import { mainMenu } from './menu.js';
import { applyAnswer, attachPhone, prompt, whatIsNeeded, type RegistrationDeps } from './registration.js';
import { balanceMessage, helpText, languageChoices, myData, type BalanceSource } from './system.js';

export interface DialogEngineDeps {
  sql: Sql;
  i18n: I18n;
  participants: ParticipantsService;
  enqueueOutbound: EnqueueOutbound;
  flows?: Flows;
  /** The ledger (balance + history) for "my balance". */
  ledger?: BalanceSource;
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
  receive(inbound: Inbound): Promise<{ status: 'handled' | 'duplicate' }>;
  /** How long the oldest message not yet committed has waited (ms); /readyz reads it. */
  backlogMs(): number;
}

const MAX_ATTEMPTS = 8;

/**
 * A batch's statements over arrays (batched.ts) are planned once, generically. With the default
 * plan_cache_mode, Postgres plans such a statement again at every execution whenever a custom plan
 * for the array's actual length looks cheaper than the generic one, which it does for batches
 * shorter than its guess of ten rows: the code lookup then cost 0.33 ms of planning per batch of
 * eight (pg_stat_statements). Every statement here is a keyed read or write, for which the generic
 * plan is the custom one.
 */
const BATCH_TRANSACTION = { settings: { plan_cache_mode: 'force_generic_plan' } };

type Tx = postgres.TransactionSql<Record<string, unknown>>;
/** A turn the flows have run, with the state as it was loaded (written only if it changed). */
interface HandledTurn {
  turn: Turn;
  stateBefore: string;
}

/**
 * A photo is downloaded before the message's transaction opens, so a slow platform download never
 * holds the conversation's lock or a pooled connection, and a retried transaction does not download
 * again. A failed or timed-out download is handed to the flows as a `load()` that rejects, so they
 * answer it as before ("send the photo again").
 */
function preloadMedia(inbound: Inbound, timeoutMs: number): Inbound | Promise<Inbound> {
  return inbound.kind === 'photo' ? downloadPhoto(inbound, timeoutMs) : inbound;
}

async function downloadPhoto(inbound: Inbound & { kind: 'photo' }, timeoutMs: number): Promise<Inbound> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`photo download took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  const settled = await Promise.race([inbound.media.load(), timeout]).then(
    (bytes) => ({ ok: true as const, bytes }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  clearTimeout(timer);
  const load = settled.ok ? async () => settled.bytes : async () => Promise.reject(settled.error);
  return { ...inbound, media: { ...inbound.media, load } };
}

/** Thrown inside the transaction to roll back a repeated delivery. */
const DUPLICATE = new Error('duplicate inbound message');

export function createDialogEngine(deps: DialogEngineDeps): DialogEngine {
  const flows = deps.flows ?? createFlows([]);
  const clock = deps.clock ?? systemClock;
  // One fixed-language t per locale for the engine's lifetime, not one per message.
  const fixedT = new Map<Locale, ReturnType<I18n['t']>>();
  const translate = (l: Locale) => {
    let t = fixedT.get(l);
    if (!t) fixedT.set(l, (t = deps.i18n.t(l)));
    return t;
  };
  const programSlug = deps.programSlug ?? 'default';

  const registrationDeps: RegistrationDeps = {
    translate,
    onParticipant: (turn) => refreshLocale(turn),
  };

  function refreshLocale(turn: Turn): void {
    turn.locale = localeOf({
      participant: turn.participant,
      identity: turn.identity,
      chosen: turn.state.pre?.locale,
      fallback: turn.program.defaultLocale,
    });
    turn.t = translate(turn.locale);
  }

  const openingOf = (inbound: Inbound): repo.OpeningInput => ({
    channel: inbound.from.channel,
    externalId: inbound.from.externalId,
    chatId: inbound.from.chatId ?? inbound.from.externalId,
    messageId: inbound.messageId,
    displayName: inbound.from.displayName,
    localeHint: inbound.from.localeHint,
    verifiedPhone: inbound.from.verifiedPhone,
  });

  /** One message alone in its transaction: open, handle, write (the COMMIT follows the writes). */
  async function runOnce(inbound: Inbound, tx: Tx): Promise<Finished<Turn>> {
    const [opened] = await repo.openConversations(tx, programSlug, [openingOf(inbound)]);
    // A repeated delivery changes nothing.
    if (!opened!.accepted) throw DUPLICATE;
    const done = await handleOpened(inbound, opened!, tx);
    return { value: done.turn, last: writeTurns(tx, [done]) };
  }

  /** Runs the flows on an opened conversation; nothing of the turn is written yet. */
  async function handleOpened(inbound: Inbound, opened: repo.OpenedConversation & { accepted: true }, tx: Tx): Promise<HandledTurn> {
    if (!opened.program || !opened.identity) throw new Error(`Program "${programSlug}" not found`);
    const program = toProgramInfo(opened.program, deps.defaultLocale);
    const identity = opened.identity;
    let participant = identity.participantId ? (opened.participant ?? null) : null;
    if (participant?.status === 'erased') participant = null;
    const state = parseState(opened.state);
    // Most messages leave the state as it was (a code sent from the menu): then nothing is written.
    const stateBefore = JSON.stringify(state);

    const turn: Turn = {
      db: tx,
      inbound,
      identity,
      program,
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
    refreshLocale(turn);
    await handle(turn);
    return { turn, stateBefore };
  }

  /**
   * The states and replies of one or more turns: the transaction's final statements, with the
   * COMMIT right behind them. Not async, so a state or reply that cannot be stored throws out of
   * the body and rolls back (src/db/pipelined-transaction.ts says why).
   */
  function writeTurns(tx: Tx, done: readonly HandledTurn[]): Promise<void> {
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
    return Promise.all([repo.saveStates(tx, states), outbox.insertReplies(tx, replies)]).then(() => undefined);
  }

  // ---- dispatch ---------------------------------------------------------------------------------

  async function handle(turn: Turn): Promise<void> {
    const { inbound } = turn;
    const p = turn.participant;

    if (p?.status === 'blocked') {
      turn.reply(turn.t('bot:blocked'));
      return;
    }

    // Commands and choices that work from anywhere.
    if (inbound.kind === 'command') {
      const handled = await command(turn, inbound.command, inbound.payload);
      if (handled) return;
    }
    if (inbound.kind === 'choice' && inbound.value.startsWith('lang:')) {
      await setLanguage(turn, inbound.value.slice(5));
      return;
    }
    if (inbound.kind === 'choice' && inbound.value === 'menu:language') {
      turn.reply(languageChoices(translate, turn.t));
      return;
    }
    if (inbound.kind === 'choice' && inbound.value === 'menu:help') {
      turn.reply(helpText(turn));
      await showCurrent(turn);
      return;
    }
    if (inbound.kind === 'unsupported') {
      turn.reply(turn.t('bot:unsupported'));
      await showCurrent(turn);
      return;
    }

    if (turn.state.step?.step === 'sys.delete') {
      const done = await confirmDelete(turn);
      if (done) return;
    }

    if (!isRegistered(turn.participant) || whatIsNeeded(turn).step !== 'done') {
      await registration(turn);
      return;
    }
    await registered(turn);
  }

  /** Returns false when the command is not a global one (it is then treated as unknown input). */
  async function command(turn: Turn, name: string, payload: string | undefined): Promise<boolean> {
    switch (name) {
      case 'start': {
        if (payload) turn.state.startPayload = payload.slice(0, 128);
        if (isRegistered(turn.participant) && whatIsNeeded(turn).step === 'done') {
          turn.state.step = null;
          if (turn.state.startPayload) {
            const handled = await startPayload(turn);
            if (handled) return true;
          }
          turn.reply(mainMenu(flows, turn.participant, turn.t, turn.t('bot:welcome_back', { name: turn.participant.name })));
          return true;
        }
        await registration(turn);
        return true;
      }
      case 'help':
        turn.reply(helpText(turn));
        await showCurrent(turn);
        return true;
      case 'menu':
        if (isRegistered(turn.participant) && whatIsNeeded(turn).step === 'done') {
          turn.state.step = null;
          turn.reply(mainMenu(flows, turn.participant, turn.t));
        } else await registration(turn);
        return true;
      case 'language':
      case 'lang':
        turn.reply(languageChoices(translate, turn.t));
        return true;
      case 'mydata':
        if (turn.participant) turn.reply(await myData(turn, turn.participant, deps.ledger));
        else turn.reply(turn.t('bot:mydata.nothing'));
        return true;
      case 'delete':
        if (!turn.participant) {
          turn.reply(turn.t('bot:delete.nothing'));
          turn.state = { step: null };
          return true;
        }
        turn.state.step = { step: 'sys.delete', data: { back: turn.state.step ?? null } };
        turn.reply({
          text: turn.t('bot:delete.confirm'),
          choices: [[{ label: turn.t('bot:delete.yes'), value: 'sys:delete_yes' }], [{ label: turn.t('bot:delete.no'), value: 'sys:delete_no' }]],
        });
        return true;
      default:
        return false;
    }
  }

  async function confirmDelete(turn: Turn): Promise<boolean> {
    const inbound = turn.inbound;
    const back = (turn.state.step?.data?.back as StepState | null | undefined) ?? null;
    if (inbound.kind === 'choice' && inbound.value === 'sys:delete_yes' && turn.participant) {
      await deps.participants.erase(turn.participant.id, turn.db);
      turn.erased = true;
      turn.participant = null;
      turn.reply(turn.t('bot:delete.done'));
      return true;
    }
    turn.state.step = back;
    if (inbound.kind === 'choice' && inbound.value === 'sys:delete_no') {
      turn.reply(turn.t('bot:delete.kept'));
      await showCurrent(turn);
      return true;
    }
    return false;
  }

  async function setLanguage(turn: Turn, value: string): Promise<void> {
    const locale = (['pl', 'pt', 'be'] as const).find((l) => l === value);
    if (!locale) return;
    if (turn.participant) turn.participant = (await repo.update(turn.db, turn.participant.id, { locale }))!;
    else turn.state.pre = { ...turn.state.pre, locale };
    refreshLocale(turn);
    turn.reply(turn.t('bot:language.set'));
    await showCurrent(turn, { afterLanguage: true });
  }

  /** Repeats what the conversation is waiting for: the registration question, the menu or a module step. */
  async function showCurrent(turn: Turn, options: { afterLanguage?: boolean } = {}): Promise<void> {
    if (!isRegistered(turn.participant) || whatIsNeeded(turn).step !== 'done') {
      const need = whatIsNeeded(turn);
      if (need.step === 'done') return;
      if (options.afterLanguage && need.step === 'consent' && turn.state.step?.step === 'reg.language') turn.reply(turn.t('bot:reg.welcome', { program: turn.program.name }));
      turn.reply(prompt(turn, need, registrationDeps));
      turn.state.step = { step: `reg.${need.step}` };
      return;
    }
    const step = turn.state.step;
    if (!step || !flows.forStep(step.step)) {
      turn.state.step = null;
      turn.reply(mainMenu(flows, turn.participant, turn.t));
    }
    // In a module step the module's last question still stands; its next message continues there.
  }

  async function registration(turn: Turn): Promise<void> {
    const fresh = !turn.participant && !turn.state.step;
    const verifiedPhone = turn.identity.verifiedPhone;
    // A channel that vouches for the phone (WhatsApp): a known number links this chat at once.
    if (!turn.participant && verifiedPhone && (await repo.findByVerifiedPhone(turn.db, turn.program.id, verifiedPhone))) {
      await attachPhone(turn, verifiedPhone, true, registrationDeps);
    }
    let need = whatIsNeeded(turn);
    const askedStep = turn.state.step?.step;
    const consentAgain = turn.inbound.kind === 'choice' && turn.inbound.value === 'reg:consent_again';
    if (consentAgain) turn.state.step = { step: 'reg.consent' };
    const result = consentAgain || need.step === 'done' ? 'not_for_me' : await applyAnswer(turn, need, askedStep, registrationDeps);
    if (turn.state.step?.step === 'reg.consent_declined') return;
    if (result === 'invalid') {
      const unknownHint = turn.replies.length === 0;
      if (unknownHint) turn.reply(turn.t('bot:reg.unknown'));
      turn.reply(prompt(turn, need, registrationDeps));
      turn.state.step = { step: `reg.${need.step}` };
      return;
    }
    need = whatIsNeeded(turn);
    if (need.step === 'phone' && verifiedPhone) {
      await attachPhone(turn, verifiedPhone, true, registrationDeps);
      need = whatIsNeeded(turn);
    }
    if (need.step === 'done') {
      if (!turn.participant!.registeredAt) {
        turn.participant = (await repo.update(turn.db, turn.participant!.id, { registeredAt: clock.now() }))!;
        turn.reply(turn.t('bot:reg.done', { name: turn.participant.name }));
      }
      turn.state.step = null;
      if (turn.state.startPayload && (await startPayload(turn))) return;
      turn.reply(mainMenu(flows, turn.participant!, turn.t));
      return;
    }
    if (fresh || (result === 'not_for_me' && !askedStep)) {
      if (need.step !== 'language') turn.reply(turn.t('bot:reg.welcome', { program: turn.program.name }));
    }
    turn.reply(prompt(turn, need, registrationDeps));
    turn.state.step = { step: `reg.${need.step}` };
  }

  async function startPayload(turn: Turn): Promise<boolean> {
    const payload = turn.state.startPayload!;
    turn.state.startPayload = undefined;
    for (const m of flows.modules) {
      if (!m.onStartPayload) continue;
      const result = await m.onStartPayload(flowContext(turn), payload);
      if (result) {
        applyTurn(turn, result);
        return true;
      }
    }
    return false;
  }

  // ---- registered participants ---------------------------------------------------------------------

  async function registered(turn: Turn): Promise<void> {
    const { inbound } = turn;
    const participant = turn.participant!;
    if (inbound.kind === 'choice') {
      const v = inbound.value;
      if (v === 'menu:balance') {
        turn.state.step = null;
        turn.reply(await balanceMessage(turn, participant, deps.ledger));
        turn.reply(mainMenu(flows, participant, turn.t));
        return;
      }
      if (v.startsWith('menu:soon:')) {
        turn.state.step = null;
        turn.reply(mainMenu(flows, participant, turn.t, turn.t('bot:menu.soon')));
        return;
      }
      if (v === 'menu:main' || v.startsWith('reg:') || v.startsWith('sys:')) {
        // A stale button from registration or a finished dialog: show where we are.
        turn.state.step = null;
        turn.reply(mainMenu(flows, participant, turn.t));
        return;
      }
      const module = flows.forChoice(v);
      if (module?.onChoice) {
        applyTurn(turn, await module.onChoice(flowContext(turn), v));
        return;
      }
    }

    const stepModule = turn.state.step ? flows.forStep(turn.state.step.step) : undefined;
    const captured = stepModule?.captures?.(turn.state.step!.step, inbound) ?? false;
    if (!captured) {
      for (const m of flows.modules) {
        if (!m.intercept) continue;
        const result = await m.intercept(flowContext(turn));
        if (result) {
          applyTurn(turn, result);
          return;
        }
      }
    }

    const handler = turn.state.step && stepModule?.steps?.[turn.state.step.step];
    if (handler) {
      applyTurn(turn, await handler(flowContext(turn)));
      return;
    }

    // Nothing understood it: a short hint and the options again.
    turn.state.step = null;
    const hint = inbound.kind === 'photo' ? 'bot:hint_photo' : 'bot:hint';
    turn.reply(mainMenu(flows, participant, turn.t, turn.t(hint)));
  }

  function flowContext(turn: Turn): FlowContext {
    return {
      db: turn.db,
      program: turn.program,
      participant: turn.participant!,
      identity: turn.identity as ChannelIdentityRow,
      inbound: turn.inbound,
      state: turn.state.step,
      locale: turn.locale,
      t: turn.t,
      services: { participants: deps.participants, enqueueOutbound: deps.enqueueOutbound },
      clock,
      logger: deps.logger,
      reply: (m) => turn.reply(m),
      mainMenu: () => mainMenu(flows, turn.participant!, turn.t),
      afterCommit: (fn) => turn.afterCommit.push(fn),
    };
  }

  function applyTurn(turn: Turn, result: FlowTurn | void): void {
    for (const r of result?.replies ?? []) turn.reply(r);
    const next = result?.next ?? 'idle';
    if (next === 'keep') return;
    if (next === 'idle') turn.state.step = null;
    else if (next === 'menu') {
      turn.state.step = null;
      turn.reply(mainMenu(flows, turn.participant!, turn.t));
    } else turn.state.step = next;
  }

  // ---- the transaction ----------------------------------------------------------------------------

  type Received = { status: 'handled' | 'duplicate' };

  const group = createGroupCommit<Inbound, Received>(
    { maxInFlight: deps.groupCommit?.maxInFlight ?? 2, maxBatch: deps.groupCommit?.maxBatch ?? 32 },
    runBatch,
  );

  function receive(received: Inbound): Promise<Received> {
    // Queued at once, in the chat's order, while a photo downloads outside any transaction.
    return group.submit(preloadMedia(received, deps.mediaTimeoutMs ?? 20_000), `${received.from.channel}:${received.from.externalId}`);
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
          const opened = await repo.openConversations(tx, programSlug, members.map((m) => openingOf(m.item)));
          const shared = shareTransaction(tx);
          // Two waves: the second half of the members starts a turn later, so the first half's
          // batched statements leave for the server while this thread still works on the second
          // half, and its answers come back while the second half's are being computed (the
          // thread and the server work at once instead of in turns; +6-7 % at 16 chats, measured;
          // more waves cost the server more statements than they save).
          const firstWave = members.length >= 4 ? Math.ceil(members.length / 2) : members.length;
          // allSettled, not all: the transaction must not end while a member still has statements
          // on its connection (they would run after the ROLLBACK, outside any transaction).
          const settled = await Promise.allSettled(
            members.map((m, i) => {
              const o = opened[i]!;
              if (!o.accepted) return null;
              const run = () => handleOpened(m.item, o, shared.member());
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
        deps.logger.error({ err: error, size: batch.length }, 'batch committed without its states or replies');
        outcome = error.value as Array<HandledTurn | null>;
      } else {
        // The database away or the batch past its deadline: one incident line, not one per batch.
        if (isUnavailable(error)) incident(deps.logger, 'database').fail(error, { via: 'message batch', size: batch.length });
        else deps.logger.debug({ err: error, size: batch.length }, 'batch rolled back: its messages run alone');
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
          deps.logger.error({ err: error, channel: inbound.from.channel, messageId: inbound.messageId }, 'message committed without its state or replies');
          afterCommit(error.value as Turn);
          return { status: 'handled' };
        }
        const race = isUniqueViolation(error, 'participants_verified_phone');
        if ((isRetryable(error) || race) && attempt < MAX_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** attempt));
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
        .catch((err: unknown) => deps.logger.error({ err }, 'after-commit hook failed'));
    }
  }

  /**
   * A bug in a flow: the message is recorded as handled (so the platform does not re-deliver it
   * forever) and the person gets a friendly "something went wrong" in their language.
   */
  async function failed(inbound: Inbound, error: unknown): Promise<{ status: 'handled' | 'duplicate' }> {
    deps.logger.error({ err: error, channel: inbound.from.channel, messageId: inbound.messageId }, 'dialog turn failed');
    const chatId = inbound.from.chatId ?? inbound.from.externalId;
    const status = await deps.sql.begin(async (tx) => {
      if (!(await repo.acceptInbox(tx, inbound.from.channel, inbound.messageId))) return 'duplicate' as const;
      const programRow = await repo.programBySlug(tx, programSlug);
      const identity = programRow
        ? await repo.findIdentity(tx, programRow.id, inbound.from.channel, inbound.from.externalId)
        : undefined;
      const participant = identity?.participantId ? await repo.getById(tx, identity.participantId) : undefined;
      const locale = localeOf({ participant, identity, fallback: deps.defaultLocale });
      const message: Outbound = { text: translate(locale)('common:error_generic') };
      if (programRow) {
        await outbox.insertReplies(tx, [
          {
            programId: programRow.id,
            channel: inbound.from.channel,
            externalId: inbound.from.externalId,
            chatId,
            identityId: identity?.id ?? null,
            participantId: participant?.id ?? null,
            kind: 'reply',
            message,
          },
        ]);
      }
      return 'handled' as const;
    });
    if (status === 'handled') deps.onCommitted?.([{ channel: inbound.from.channel, chatId }]);
    return { status };
  }

  return { receive, backlogMs: () => group.oldestMs() };
}

export type { ConversationState };
