/**
 * Which flow gets a message, in this order: a blocked participant gets one answer; global commands
 * and the answers that work anywhere (flows/system); the delete confirmation; registration while it
 * is incomplete (flows/registration); then, for registered participants, the main menu's own
 * buttons, a module's choice, the interceptors (unless the current step captures the input), the
 * current step's handler, and a hint with the menu when nothing understood the message.
 *
 * Every flow returns its decision (`FlowTurn`, or `ChatTurn` for the built-ins); the router applies
 * it to the engine's turn, the one place a turn changes.
 */
import type { Locale, Translate } from '../i18n/index.js';
import { localeOf } from '../services/participants/index.js';
import type { ChannelIdentityRow } from '../domain/participants/index.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { ChatContext, ChatTurn, CoreServices, FlowContext, FlowTurn, Flows } from './flow.js';
import type { Turn } from './turn.js';
import { mainMenu } from './menu.js';
import * as system from './flows/system/index.js';
import { needsRegistration, register } from './flows/registration/index.js';
import type { BalanceSource } from './flows/system/balance-source.js';

export interface RouterDeps {
  flows: Flows;
  services: CoreServices;
  balances?: BalanceSource;
  translate: (locale: Locale) => Translate;
  clock: Clock;
  logger: Logger;
}

export interface Router {
  /** Runs the flows on a turn; its state, participant and replies are what they decided. */
  route(turn: Turn): Promise<void>;
  /** The turn's language from its participant, chat and conversation (after any change). */
  relocalize(turn: Turn): void;
}

export function createRouter(deps: RouterDeps): Router {
  const { flows } = deps;

  function relocalize(turn: Turn): void {
    turn.locale = chatLocale(turn.program, { participant: turn.participant, identity: turn.identity, pre: turn.state.pre });
    turn.t = deps.translate(turn.locale);
  }

  const chatLocale = (program: Turn['program'], view: { participant: Turn['participant']; identity: ChannelIdentityRow; pre: Turn['state']['pre'] }) =>
    localeOf({ participant: view.participant, identity: view.identity, chosen: view.pre?.locale, fallback: program.defaultLocale });

  async function route(turn: Turn): Promise<void> {
    const { inbound } = turn;
    if (turn.participant?.status === 'blocked') {
      turn.reply(turn.t('bot:blocked'));
      return;
    }
    if (inbound.kind === 'command') {
      const done = await system.onCommand(chatContext(turn), inbound.command, inbound.payload);
      if (done) return applyChatTurn(turn, done);
    }
    const anytime = await system.anytime(chatContext(turn));
    if (anytime) return applyChatTurn(turn, anytime);
    if (turn.state.step?.step === 'sys.delete') {
      const done = await system.confirmDelete(chatContext(turn));
      await applyChatTurn(turn, done);
      if (!done.pass) return;
    }
    if (needsRegistration({ participant: turn.participant, identity: turn.identity, state: turn.state, ctx: turn })) return applyChatTurn(turn, await register(chatContext(turn)));
    await registered(turn);
  }

  async function registered(turn: Turn): Promise<void> {
    const { inbound } = turn;
    if (inbound.kind === 'choice') {
      const v = inbound.value;
      const menu = await system.onMenuChoice(chatContext(turn), v);
      if (menu) return applyChatTurn(turn, menu);
      const module = flows.forChoice(v);
      if (module?.onChoice) return applyTurn(turn, await module.onChoice(flowContext(turn), v));
    }

    const stepModule = turn.state.step ? flows.forStep(turn.state.step.step) : undefined;
    const captured = stepModule?.captures?.(turn.state.step!.step, inbound) ?? false;
    if (!captured) {
      for (const m of flows.modules) {
        if (!m.intercept) continue;
        const result = await m.intercept(flowContext(turn));
        if (result) return applyTurn(turn, result);
      }
    }

    const handler = turn.state.step && stepModule?.steps?.[turn.state.step.step];
    if (handler) return applyTurn(turn, await handler(flowContext(turn)));

    // Nothing understood it: a short hint and the options again.
    turn.state.step = null;
    const hint = inbound.kind === 'photo' ? 'bot:hint_photo' : 'bot:hint';
    turn.reply(mainMenu(flows, turn.participant!, turn.t, turn.t(hint)));
  }

  /** A `/start <payload>` deep link, offered to the modules once registration is complete. */
  async function offerStartPayload(turn: Turn): Promise<boolean> {
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

  function chatContext(turn: Turn): ChatContext {
    return {
      db: turn.db,
      program: turn.program,
      participant: turn.participant,
      identity: turn.identity,
      inbound: turn.inbound,
      state: turn.state.step,
      conversation: turn.state,
      locale: turn.locale,
      t: turn.t,
      services: deps.services,
      clock: deps.clock,
      logger: deps.logger,
      translate: deps.translate,
      localeOf: (view) => chatLocale(turn.program, view),
      mainMenu: (participant, t, text) => mainMenu(flows, participant, t, text),
      isModuleStep: (step) => flows.forStep(step) !== undefined,
      ...(deps.balances ? { balances: deps.balances } : {}),
    };
  }

  function flowContext(turn: Turn): FlowContext {
    return {
      db: turn.db,
      program: turn.program,
      participant: turn.participant!,
      identity: turn.identity,
      inbound: turn.inbound,
      state: turn.state.step,
      locale: turn.locale,
      t: turn.t,
      services: deps.services,
      clock: deps.clock,
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

  async function applyChatTurn(turn: Turn, result: ChatTurn): Promise<void> {
    turn.participant = result.participant;
    turn.identity = result.identity;
    turn.state.pre = result.pre;
    turn.state.startPayload = result.startPayload;
    if (result.erased) turn.erased = true;
    relocalize(turn);
    applyTurn(turn, result);
    if (result.offerStartPayload && turn.state.startPayload && !(await offerStartPayload(turn))) {
      turn.reply(mainMenu(flows, turn.participant!, turn.t, result.offerStartPayload.menuText));
    }
  }

  return { route, relocalize };
}
