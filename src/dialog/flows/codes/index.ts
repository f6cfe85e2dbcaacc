/**
 * The codes chat feature: "enter a code" in the main menu, and a global interceptor so a text that
 * looks like one or more codes, or is an existing pre-printed code of any shape, is redeemed from
 * any point of the conversation (except inside a step that captures free text, e.g. an invoice
 * number). `/start <code>` (or `/start code_<code>`) deep links redeem after registration.
 */
import type { FlowContext, FlowModule, FlowTurn } from '../../flow.js';
import { extractCodes } from '../../../domain/codes/code-format.js';
import type { Earner, ParticipantRole } from '../../../domain/campaigns/campaign.js';
import type { CodesService } from '../../../services/codes/index.js';
import { outcomesMessage } from './render.js';

export function earnerOf(ctx: Pick<FlowContext, 'participant'>): Earner {
  const p = ctx.participant;
  const region = p.profile?.region;
  return {
    id: p.id,
    programId: p.programId,
    role: (p.role ?? 'consumer') as ParticipantRole,
    store: p.store,
    region: typeof region === 'string' ? region : null,
  };
}

export function createCodesFlow(deps: { codes: CodesService }): FlowModule {
  async function redeem(ctx: FlowContext, codes: string[]): Promise<string> {
    const outcomes = await deps.codes.redeem(ctx.db, {
      participant: earnerOf(ctx),
      identity: { channel: ctx.identity.channel, externalId: ctx.identity.externalId },
      phone: ctx.participant.phone,
      ...(ctx.inbound.network ? { network: ctx.inbound.network } : {}),
      codes,
    });
    return outcomesMessage(ctx.t, ctx.locale, outcomes);
  }

  return {
    id: 'codes',
    menu: [{ slot: 'code', labelKey: 'codes:menu_enter', value: 'codes:enter', order: 10 }],

    onChoice(ctx, value): FlowTurn {
      if (value === 'codes:enter') return { replies: [ctx.t('codes:ask')], next: { step: 'codes.enter' } };
      return { next: 'menu' };
    },

    steps: {
      // Reached only by texts the interceptor did not take: not shaped like a code at all.
      'codes.enter': async (ctx) => {
        if (ctx.inbound.kind !== 'text') return { replies: [ctx.t('codes:ask')], next: 'keep' };
        const text = ctx.inbound.text.trim();
        if (text.length > 200) return { replies: [ctx.t('codes:ask')], next: 'keep' };
        return { replies: [await redeem(ctx, [text])], next: 'menu' };
      },
    },

    async intercept(ctx) {
      if (ctx.inbound.kind !== 'text') return undefined;
      const text = ctx.inbound.text.trim();
      // A pre-printed (imported) code may have any shape: a single short text is looked up as one.
      const codes = extractCodes(text) ?? (text.length <= 80 && !text.includes('\n') && (await deps.codes.isExistingCode(ctx.db, text)) ? [text] : undefined);
      if (!codes) return undefined;
      const inCodeStep = ctx.state?.step === 'codes.enter';
      return { replies: [await redeem(ctx, codes)], next: inCodeStep ? 'menu' : 'keep' };
    },

    async onStartPayload(ctx, payload) {
      const raw = payload.replace(/^(code|kod)[_-]/i, '');
      const codes = extractCodes(raw.replaceAll('_', '-'));
      if (!codes) return undefined;
      return { replies: [ctx.t('codes:deep_link_after'), await redeem(ctx, codes)], next: 'menu' };
    },
  };
}
