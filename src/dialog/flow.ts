/**
 * The plug-in point for conversation features (codes, sales, receipts, rewards, broadcasts,
 * moderation): each is a `FlowModule` handed to `createFlows([...])` in main.ts. The built-in flows
 * (flows/registration, flows/system: the main menu, language, help, privacy commands and "my
 * balance") follow the same contract on a `ChatContext`, which also serves chats that have no
 * registered participant yet; the router (router.ts) decides which flow gets a message.
 *
 * How to add a feature to the chat
 * --------------------------------
 * 1. Write `src/dialog/flows/<feature>/index.ts` exporting a factory that takes the services it
 *    needs and returns a `FlowModule`:
 *
 *      export function createCodesFlow(deps: { codes: CodesService }): FlowModule {
 *        return {
 *          id: 'codes',                                   // owns steps 'codes.*', choices 'codes:*'
 *          menu: [{ slot: 'code', labelKey: 'codes:menu.enter', value: 'codes:enter' }],
 *          async onChoice(ctx, value) {                   // value === 'codes:enter'
 *            return { replies: [ctx.t('codes:ask')], next: { step: 'codes.enter' } };
 *          },
 *          steps: {
 *            'codes.enter': async (ctx) => {
 *              if (ctx.inbound.kind !== 'text') return { replies: [ctx.t('codes:ask')], next: 'keep' };
 *              const r = await deps.codes.redeem(ctx.db, { ... });   // on the message's transaction
 *              return { replies: [ctx.t('codes:credited', { n: r.points })], next: 'menu' };
 *            },
 *          },
 *          async intercept(ctx) {                         // any point, registered participants only
 *            if (ctx.inbound.kind !== 'text' || !looksLikeCode(ctx.inbound.text)) return undefined;
 *            return { replies: [...], next: 'keep' };
 *          },
 *          async onStartPayload(ctx, payload) { ... }     // `/start <payload>` after registration
 *        };
 *      }
 *
 * 2. Put its texts in `locales/{pl,pt,be}/<feature>.json` and use `ctx.t('<feature>:key')`.
 * 3. Add it to its area's `Feature` in src/features/areas.ts (`flows: [createCodesFlow({ codes })]`).
 *
 * Rules
 * - Everything a handler writes goes through `ctx.db`: the message's transaction. Effects, state and
 *   replies commit together, and the whole turn is retried on deadlock/serialization failure, so a
 *   handler must not do irreversible I/O (HTTP calls, BullMQ adds) itself: use `ctx.afterCommit`.
 * - Replies are `Outbound`s (or plain strings) in the participant's language; never channel markup.
 * - Choice values are `<moduleId>:<anything>`, at most 64 bytes (Telegram's callback limit).
 * - Step names are `<moduleId>.<name>`; `data` on a step is yours (JSON-serialisable, kept small).
 * - A handler must not throw for expected outcomes; throw only for bugs/infrastructure (the engine
 *   answers with a generic "something went wrong" and logs it).
 */
import type { Db } from '../db/sql.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Locale, Translate } from '../i18n/index.js';
import type { Participant, ParticipantRole, ProgramInfo, ChannelIdentityRow } from '../domain/participants/index.js';
import type { Inbound, Outbound } from './types.js';
import type { ParticipantsService } from '../services/participants/index.js';
import type { EnqueueOutbound } from '../services/outbox/enqueue-outbound.js';
import type { BalanceSource } from './flows/system/balance-source.js';

/** Where a conversation stands: the built-in steps are `reg.*` / `sys.*`; modules own theirs. */
export interface StepState {
  step: string;
  data?: Record<string, unknown>;
}

/** What is kept per chat in conversations.state. */
export interface ConversationState {
  /** Where the conversation waits (null: main menu / idle). */
  step: StepState | null;
  /** Before a participant exists: language picked and consent given in this chat. */
  pre?: { locale?: Locale; consentAt?: string; consentVersion?: string };
  /** A `/start <payload>` deep link waiting for registration to finish. */
  startPayload?: string;
}

/**
 * What a handler decides:
 * - `next`: a `StepState` to wait for more input there; `'keep'` to stay where the conversation is;
 *   `'menu'` to go back to the main menu and show it; `'idle'` (default) to go back to the main
 *   menu without showing it again.
 */
export interface FlowTurn {
  replies?: Array<Outbound | string>;
  next?: StepState | 'keep' | 'menu' | 'idle';
}

/** Services every flow may use on the message's transaction (modules get their own via their factory). */
export interface CoreServices {
  participants: ParticipantsService;
  /** Queue a message to someone else (a notice to a moderator, a manager alert…) in this transaction. */
  enqueueOutbound: EnqueueOutbound;
}

export interface FlowContext {
  /** The message's transaction. */
  db: Db;
  program: ProgramInfo;
  /** The registered, active participant who wrote. */
  participant: Participant;
  /** The chat identity the message came from (channel, external id, chat id). */
  identity: ChannelIdentityRow;
  inbound: Inbound;
  /** The current step (null at the main menu). */
  state: StepState | null;
  locale: Locale;
  /** `t` bound to the participant's language; keys are `namespace:key`. */
  t: Translate;
  services: CoreServices;
  clock: Clock;
  logger: Logger;
  /** Adds a reply (same as returning it in `replies`). */
  reply(message: Outbound | string): void;
  /** The main menu message for this participant (choices filtered by role). */
  mainMenu(): Outbound;
  /** Runs after the transaction committed (enqueue a job, poke a worker); errors are logged only. */
  afterCommit(fn: () => Promise<unknown> | unknown): void;
}

export type StepHandler = (ctx: FlowContext) => Promise<FlowTurn | void> | FlowTurn | void;

/**
 * What the built-in flows see: the message's context before a registered participant need exist,
 * with the whole conversation state (read only: a flow returns what changes) and the ways to speak
 * another language than the participant's.
 */
export interface ChatContext extends Omit<FlowContext, 'participant' | 'reply' | 'mainMenu' | 'afterCommit'> {
  participant: Participant | null;
  conversation: Readonly<ConversationState>;
  /** `t` for another language (the language question is asked in all three). */
  translate(locale: Locale): Translate;
  /** The language a chat speaks as it would stand after a change (a new participant, a picked language). */
  localeOf(view: { participant: Participant | null; identity: ChannelIdentityRow; pre: ConversationState['pre'] }): Locale;
  /** The main menu for this participant, in `t`'s language, under `text` (default: its title). */
  mainMenu(participant: Participant, t: Translate, text?: string): Outbound;
  /** Whether a feature module owns this step (it then keeps its own question standing). */
  isModuleStep(step: string): boolean;
  /** "My balance" and /mydata; absent where no ledger is wired. */
  balances?: BalanceSource;
}

/**
 * A built-in flow's decision: its replies and next step as in `FlowTurn`, and the conversation as it
 * left it (the participant created, linked, updated or erased; the language or consent picked
 * before there was one; a waiting deep link).
 */
export interface ChatTurn extends FlowTurn {
  next: StepState | 'idle';
  participant: Participant | null;
  identity: ChannelIdentityRow;
  pre: ConversationState['pre'];
  startPayload: string | undefined;
  /** /delete confirmed: the identity and its conversation are gone, nothing is saved. */
  erased: boolean;
  /** Then offer the waiting `/start` payload to the feature modules; none takes it: the main menu under `menuText`. */
  offerStartPayload?: { menuText?: string };
  /** Not answered: the router goes on with the next flow from this conversation. */
  pass?: boolean;
}

/**
 * Main-menu slots the engine knows: while no module claims one, the engine shows a localized
 * "coming soon" for it. Modules may also add items with no slot (shown after the built-in ones).
 */
export type MenuSlot = 'code' | 'receipt' | 'sale' | 'rewards';

export interface MenuItem {
  slot?: MenuSlot;
  /** i18n key of the button label, e.g. 'codes:menu.enter'. */
  labelKey: string;
  /** Choice value, `<moduleId>:…`; routed to the module's `onChoice`. */
  value: string;
  /** Roles that see it; all when absent. */
  roles?: readonly ParticipantRole[];
  /** Sort order among items (built-ins use 10, 20, …). */
  order?: number;
}

export interface FlowModule {
  /** Short id: prefix of its choice values (`id:`) and step names (`id.`). */
  id: string;
  menu?: MenuItem[];
  /** A `choice` whose value starts with `<id>:` (from a menu item or a button this module sent). */
  onChoice?(ctx: FlowContext, value: string): Promise<FlowTurn | void> | FlowTurn | void;
  /** Handlers for the module's own steps, keyed by full step name (`<id>.<name>`). */
  steps?: Record<string, StepHandler>;
  /**
   * Runs for every message of a registered participant before the step handler (after the global
   * commands). Return undefined to pass. Not run while the conversation is in a step of a module
   * whose `captures` says it wants this input itself.
   */
  intercept?(ctx: FlowContext): Promise<FlowTurn | undefined> | FlowTurn | undefined;
  /** While in one of this module's steps: true → interceptors (of all modules) are skipped. */
  captures?(step: string, inbound: Inbound): boolean;
  /** `/start <payload>` deep links, after registration; return undefined when not yours. */
  onStartPayload?(ctx: FlowContext, payload: string): Promise<FlowTurn | undefined> | FlowTurn | undefined;
}

export interface Flows {
  readonly modules: readonly FlowModule[];
  /** The module owning a choice value or step name, by its prefix. */
  forChoice(value: string): FlowModule | undefined;
  forStep(step: string): FlowModule | undefined;
  /** Menu items of all modules, sorted. */
  menuItems(): MenuItem[];
}

export function createFlows(modules: FlowModule[]): Flows {
  const byId = new Map<string, FlowModule>();
  for (const m of modules) {
    if (!/^[a-z][a-z0-9_]*$/.test(m.id)) throw new Error(`Flow module id "${m.id}" must be lower-case letters, digits, _`);
    if (['reg', 'sys', 'menu', 'lang', 'del', 'reg_'].includes(m.id)) throw new Error(`Flow module id "${m.id}" is reserved`);
    if (byId.has(m.id)) throw new Error(`Two flow modules share the id "${m.id}"`);
    for (const item of m.menu ?? []) {
      if (!item.value.startsWith(`${m.id}:`)) throw new Error(`Menu value "${item.value}" must start with "${m.id}:"`);
    }
    for (const step of Object.keys(m.steps ?? {})) {
      if (!step.startsWith(`${m.id}.`)) throw new Error(`Step "${step}" must start with "${m.id}."`);
    }
    byId.set(m.id, m);
  }
  const prefixOf = (s: string, sep: string) => (s.includes(sep) ? s.slice(0, s.indexOf(sep)) : undefined);
  return {
    modules,
    forChoice: (value) => byId.get(prefixOf(value, ':') ?? ''),
    forStep: (step) => byId.get(prefixOf(step, '.') ?? ''),
    menuItems: () =>
      modules.flatMap((m) => m.menu ?? []).sort((a, b) => (a.order ?? 50) - (b.order ?? 50)),
  };
}
