/**
 * Broadcasts in the chat:
 * - `/broadcast` for managers: text in one or more languages → audience → preview with the
 *   recipient count → send. The broadcast is created on the message's transaction and the jobs
 *   layer is kicked after commit.
 * - `/mute` and `/unmute` (also `/stop`) at any point, and the words STOP, PARAR, СТОП / START,
 *   VOLTAR, СТАРТ as the whole message at the main menu only: inside another flow's step the word
 *   is that flow's answer (a "Voltar" in a form must not unmute, nor a "Stop" mute). Muting only
 *   stops announcements: replies and personal notices still arrive.
 */
import type { FlowContext, FlowModule, FlowTurn } from '../../flow.js';
import type { Outbound } from '../../types.js';
import { LOCALES, type Locale } from '../../../i18n/index.js';
import { muteIntent, pickText, type Audience, type LocalizedText } from '../../../domain/broadcasts/index.js';
import type { BroadcastsService } from '../../../services/broadcasts/index.js';

const MAX_TEXT = 3500; // under Telegram's 4096, with room for the preview's frame
const AUDIENCES: Record<string, Audience> = {
  all: {},
  consumers: { roles: ['consumer'] },
  staff: { roles: ['retail_staff', 'sales_rep', 'installer'] },
};

interface Draft {
  texts: LocalizedText;
  /** The language the next text is for. */
  lang?: Locale;
  audience?: string;
}

const draftOf = (ctx: FlowContext): Draft => (ctx.state?.data as Draft | undefined) ?? { texts: {} };

export function createBroadcastsFlow(deps: { broadcasts: BroadcastsService }): FlowModule {
  const languageName = (ctx: FlowContext, l: Locale) => String(ctx.t('common:language_name', { lng: l }));

  function askText(ctx: FlowContext, draft: Draft, lang: Locale): FlowTurn {
    return {
      replies: [{ text: ctx.t('broadcasts:compose.ask_text_in', { language: languageName(ctx, lang) }), choices: [[{ label: ctx.t('broadcasts:compose.cancel'), value: 'bc:cancel' }]] }],
      next: { step: 'bc.text', data: { ...draft, lang } as unknown as Record<string, unknown> },
    };
  }

  function askMore(ctx: FlowContext, draft: Draft): FlowTurn {
    const missing = LOCALES.filter((l) => !draft.texts[l]);
    const choices: Outbound['choices'] = [
      ...(missing.length ? [missing.map((l) => ({ label: languageName(ctx, l), value: `bc:lang:${l}` }))] : []),
      [{ label: ctx.t('broadcasts:compose.next'), value: 'bc:next' }],
      [{ label: ctx.t('broadcasts:compose.cancel'), value: 'bc:cancel' }],
    ];
    return { replies: [{ text: ctx.t('broadcasts:compose.more'), choices }], next: { step: 'bc.more', data: draft as unknown as Record<string, unknown> } };
  }

  function askAudience(ctx: FlowContext, draft: Draft, prefix?: string): FlowTurn {
    const choices = [
      [{ label: ctx.t('broadcasts:compose.audience_all'), value: 'bc:aud:all' }],
      [{ label: ctx.t('broadcasts:compose.audience_consumers'), value: 'bc:aud:consumers' }],
      [{ label: ctx.t('broadcasts:compose.audience_staff'), value: 'bc:aud:staff' }],
      [{ label: ctx.t('broadcasts:compose.cancel'), value: 'bc:cancel' }],
    ];
    return {
      replies: [{ text: prefix ?? ctx.t('broadcasts:compose.audience'), choices }],
      next: { step: 'bc.audience', data: draft as unknown as Record<string, unknown> },
    };
  }

  async function mute(ctx: FlowContext, muted: boolean): Promise<FlowTurn> {
    const changed = await deps.broadcasts.setMuted(ctx.db, ctx.participant.id, muted);
    const key = muted ? (changed ? 'broadcasts:mute.done' : 'broadcasts:mute.already') : changed ? 'broadcasts:unmute.done' : 'broadcasts:unmute.already';
    return { replies: [ctx.t(key)], next: 'keep' };
  }

  const isManager = (ctx: FlowContext) => ctx.participant.role === 'manager';

  return {
    id: 'bc',
    async intercept(ctx) {
      const inbound = ctx.inbound;
      if (inbound.kind === 'command') {
        if (inbound.command === 'mute' || inbound.command === 'stop') return mute(ctx, true);
        if (inbound.command === 'unmute') return mute(ctx, false);
        if (inbound.command === 'broadcast') {
          if (!isManager(ctx)) return { replies: [ctx.t('broadcasts:compose.not_allowed')], next: 'idle' };
          return askText(ctx, { texts: {} }, ctx.locale);
        }
        return undefined;
      }
      if (inbound.kind === 'text' && !ctx.state) {
        const intent = muteIntent(inbound.text);
        if (intent) return mute(ctx, intent === 'mute');
      }
      return undefined;
    },
    // While a manager writes the text, nothing else (a code detector, STOP) reads it.
    captures: (step) => step === 'bc.text',
    steps: {
      'bc.text': (ctx) => {
        const draft = draftOf(ctx);
        const lang = draft.lang ?? ctx.locale;
        if (ctx.inbound.kind !== 'text' || !ctx.inbound.text.trim()) return { replies: [ctx.t('broadcasts:compose.text_only')], next: 'keep' };
        const text = ctx.inbound.text.trim();
        if (text.length > MAX_TEXT) return { replies: [ctx.t('broadcasts:compose.too_long', { max: MAX_TEXT })], next: 'keep' };
        return askMore(ctx, { ...draft, lang: undefined, texts: { ...draft.texts, [lang]: text } });
      },
    },
    async onChoice(ctx, value) {
      const draft = draftOf(ctx);
      if (value === 'bc:cancel') return { replies: [ctx.t('broadcasts:compose.cancelled')], next: 'menu' };
      // Buttons of a finished or abandoned draft: nothing to do but the menu.
      if (!isManager(ctx) || !ctx.state?.step.startsWith('bc.') || Object.keys(draft.texts).length === 0) return { next: 'menu' };
      const lang = /^bc:lang:(pl|pt-PT|pt-BR|be)$/.exec(value)?.[1] as Locale | undefined;
      if (lang) return askText(ctx, draft, lang);
      if (value === 'bc:next') return askAudience(ctx, draft);
      const audienceKey = /^bc:aud:(\w+)$/.exec(value)?.[1];
      if (audienceKey && AUDIENCES[audienceKey]) {
        const count = await deps.broadcasts.countAudience(ctx.db, AUDIENCES[audienceKey]!, ctx.program.id);
        if (count === 0) return askAudience(ctx, draft, ctx.t('broadcasts:compose.nobody'));
        const text = pickText(draft.texts, ctx.locale, ctx.program.defaultLocale) ?? '';
        return {
          replies: [
            {
              text: ctx.t('broadcasts:compose.preview', { text, count }),
              choices: [
                [{ label: ctx.t('broadcasts:compose.send'), value: 'bc:send' }],
                [{ label: ctx.t('broadcasts:compose.cancel'), value: 'bc:cancel' }],
              ],
            },
          ],
          next: { step: 'bc.confirm', data: { ...draft, audience: audienceKey } as unknown as Record<string, unknown> },
        };
      }
      if (value === 'bc:send' && ctx.state?.step === 'bc.confirm' && draft.audience && AUDIENCES[draft.audience]) {
        const audience = AUDIENCES[draft.audience]!;
        const b = await deps.broadcasts.create(ctx.db, {
          programId: ctx.program.id,
          message: draft.texts,
          audience,
          createdBy: `participant:${ctx.participant.id}`,
        });
        const count = await deps.broadcasts.countAudience(ctx.db, audience, ctx.program.id);
        ctx.afterCommit(() => deps.broadcasts.kick(b.id));
        return { replies: [ctx.t('broadcasts:compose.queued', { count })], next: 'menu' };
      }
      return { next: 'menu' };
    },
  };
}
