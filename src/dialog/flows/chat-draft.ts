/**
 * The built-in flows' working copy of a conversation: registration and the system commands take
 * several steps on one message (link a phone, then ask the next question in the new language), so
 * they work on a draft of the chat and hand the router the result as one `ChatTurn`. Nothing of the
 * engine's own turn is touched by a flow.
 */
import type { Locale, Translate } from '../../i18n/index.js';
import type { ChannelIdentityRow, Participant } from '../../domain/participants/index.js';
import type { Outbound } from '../types.js';
import type { ChatContext, ChatTurn, ConversationState } from '../flow.js';

export interface ChatDraft {
  readonly ctx: ChatContext;
  identity: ChannelIdentityRow;
  participant: Participant | null;
  state: ConversationState;
  locale: Locale;
  t: Translate;
  replies: Outbound[];
  erased: boolean;
  reply(message: Outbound | string): void;
  /** Speak the language the chat speaks now (after a participant or a language was set). */
  relocalize(): void;
}

export const asOutbound = (m: Outbound | string): Outbound => (typeof m === 'string' ? { text: m } : m);

export function draftOf(ctx: ChatContext): ChatDraft {
  const c = ctx.conversation;
  const draft: ChatDraft = {
    ctx,
    identity: ctx.identity,
    participant: ctx.participant,
    state: { step: c.step, ...(c.pre ? { pre: { ...c.pre } } : {}), ...(c.startPayload !== undefined ? { startPayload: c.startPayload } : {}) },
    locale: ctx.locale,
    t: ctx.t,
    replies: [],
    erased: false,
    reply(m) {
      const out = asOutbound(m);
      if (out.text || out.image) this.replies.push(out);
    },
    relocalize() {
      this.locale = ctx.localeOf({ participant: this.participant, identity: this.identity, pre: this.state.pre });
      this.t = ctx.translate(this.locale);
    },
  };
  return draft;
}

export function turnOf(d: ChatDraft, extra: Pick<ChatTurn, 'offerStartPayload' | 'pass'> = {}): ChatTurn {
  return {
    replies: d.replies,
    next: d.state.step ?? 'idle',
    participant: d.participant,
    identity: d.identity,
    pre: d.state.pre,
    startPayload: d.state.startPayload,
    erased: d.erased,
    ...extra,
  };
}
