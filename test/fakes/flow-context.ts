/**
 * A FlowContext (and ChatContext for the built-in flows) without an engine or a database, so a flow
 * can be tested as a unit: real i18n and main menu, the participant, chat and message you give, and
 * the services you hand in (fakes recording what they were asked). `db` is a token standing for
 * the message's transaction: a fake service can check it was handed that, and nothing can query it.
 *
 *   const ctx = fakeFlowContext({ inbound: textMessage('K7QM-3XW9-T'), services: { participants } });
 *   const turn = await flow.intercept!(ctx);
 *   expect(turn?.replies).toEqual([...]);
 */
import { createI18n, type Locale } from '../../src/i18n/index.js';
import type { Db } from '../../src/db/sql.js';
import { createFlows, type ChatContext, type ConversationState, type CoreServices, type FlowContext, type FlowModule, type StepState } from '../../src/dialog/flow.js';
import { mainMenu } from '../../src/dialog/menu.js';
import { localeOf } from '../../src/services/participants/index.js';
import type { ChannelIdentityRow, Participant, ProgramInfo } from '../../src/domain/participants/index.js';
import type { Inbound, InboundBody, Outbound } from '../../src/dialog/types.js';
import type { ParticipantsService } from '../../src/services/participants/index.js';
import type { EnqueueOutbound } from '../../src/services/outbox/index.js';
import { fixedClock } from '../../src/shared/clock.js';
import { testLogger } from '../helpers/logger.js';

export const i18n = createI18n({ defaultLocale: 'pl' });

/** Stands for the message's transaction. */
export const MESSAGE_TX = Object.freeze({ transaction: 'the message' }) as unknown as Db;

export const program: ProgramInfo = {
  id: 'prog-1',
  slug: 'default',
  name: 'Punkto',
  defaultLocale: 'pl',
  timeZone: 'Europe/Warsaw',
  termsVersion: '1',
  profileQuestions: [],
};

export function participant(overrides: Partial<Participant> = {}): Participant {
  return {
    id: 'p-1',
    programId: program.id,
    status: 'active',
    role: 'consumer',
    locale: 'pl',
    name: 'Ania',
    phone: '+48600100200',
    phoneVerified: true,
    store: null,
    profile: {},
    consentVersion: '1',
    consentAt: new Date('2026-01-01T10:00:00Z'),
    muted: false,
    registeredAt: new Date('2026-01-01T10:00:00Z'),
    erasedAt: null,
    createdAt: new Date('2026-01-01T10:00:00Z'),
    ...overrides,
  };
}

export function identity(overrides: Partial<ChannelIdentityRow> = {}): ChannelIdentityRow {
  return {
    id: 'i-1',
    programId: program.id,
    channel: 'telegram',
    externalId: '1001',
    chatId: '1001',
    participantId: 'p-1',
    displayName: null,
    localeHint: 'pl',
    verifiedPhone: null,
    unreachableAt: null,
    unreachableReason: null,
    createdAt: new Date('2026-01-01T10:00:00Z'),
    lastSeenAt: new Date('2026-01-01T10:00:00Z'),
    ...overrides,
  };
}

export function message(body: InboundBody, from: Partial<Inbound['from']> = {}): Inbound {
  return { ...body, messageId: 'm-1', from: { channel: 'telegram', externalId: '1001', ...from }, receivedAt: new Date('2026-03-01T09:00:00Z') } as Inbound;
}

/** A participants service that fails loudly for anything a test did not give it. */
export function participantsFake(methods: Partial<ParticipantsService>): ParticipantsService {
  return new Proxy(methods as ParticipantsService, {
    get(target, name: string) {
      const fn = (target as unknown as Record<string, unknown>)[name];
      if (fn) return fn;
      return () => Promise.reject(new Error(`participants.${name} is not part of this fake`));
    },
  });
}

const noOutbound: EnqueueOutbound = () => Promise.reject(new Error('enqueueOutbound is not part of this fake'));

interface FakeOptions {
  inbound: Inbound;
  participant?: Participant;
  identity?: ChannelIdentityRow;
  state?: StepState | null;
  locale?: Locale;
  services?: Partial<CoreServices>;
  /** Feature modules the main menu shows. */
  modules?: FlowModule[];
}

/** A FlowContext as the router builds it for a registered participant; `replies`/`afterCommits` record what the flow added. */
export function fakeFlowContext(o: FakeOptions): FlowContext & { replies: Outbound[]; afterCommits: Array<() => unknown> } {
  const p = o.participant ?? participant();
  const locale = o.locale ?? p.locale ?? 'pl';
  const t = i18n.t(locale);
  const flows = createFlows(o.modules ?? []);
  const replies: Outbound[] = [];
  const afterCommits: Array<() => unknown> = [];
  return {
    db: MESSAGE_TX,
    program,
    participant: p,
    identity: o.identity ?? identity(),
    inbound: o.inbound,
    state: o.state ?? null,
    locale,
    t,
    services: { participants: participantsFake({}), enqueueOutbound: noOutbound, ...o.services },
    clock: fixedClock(new Date('2026-03-01T09:00:00Z')),
    logger: testLogger(),
    reply: (m) => void replies.push(typeof m === 'string' ? { text: m } : m),
    mainMenu: () => mainMenu(flows, p, t),
    afterCommit: (fn) => void afterCommits.push(fn),
    replies,
    afterCommits,
  };
}

/** A ChatContext for the built-in flows: `participant: null` is a chat nobody registered yet. */
export function fakeChatContext(o: Omit<FakeOptions, 'participant' | 'state'> & { participant?: Participant | null; conversation?: ConversationState }): ChatContext {
  const p = o.participant === undefined ? participant() : o.participant;
  const id = o.identity ?? identity(p ? {} : { participantId: null });
  const conversation = o.conversation ?? { step: null };
  const locale = o.locale ?? localeOf({ participant: p, identity: id, chosen: conversation.pre?.locale, fallback: program.defaultLocale });
  const flows = createFlows(o.modules ?? []);
  return {
    db: MESSAGE_TX,
    program,
    participant: p,
    identity: id,
    inbound: o.inbound,
    state: conversation.step,
    conversation,
    locale,
    t: i18n.t(locale),
    services: { participants: participantsFake({}), enqueueOutbound: noOutbound, ...o.services },
    clock: fixedClock(new Date('2026-03-01T09:00:00Z')),
    logger: testLogger(),
    translate: (l) => i18n.t(l),
    localeOf: (view) => localeOf({ participant: view.participant, identity: view.identity, chosen: view.pre?.locale, fallback: program.defaultLocale }),
    mainMenu: (who, t, text) => mainMenu(flows, who, t, text),
    isModuleStep: (step) => flows.forStep(step) !== undefined,
  };
}
