/**
 * "Rewards" and "My orders" in the chat: the catalogue (catalogue.ts), ordering (order.ts) and the
 * participant's orders (my-orders.ts). This module routes choices and free-text steps to them.
 */
import type { FlowContext, FlowModule, FlowTurn } from '../../flow.js';
import type { RewardsService } from '../../../services/rewards/index.js';
import { isValidCashOutAmount } from '../../../domain/rewards/index.js';
import { details, list } from './catalogue.js';
import { afterChoices, cancelRow, draftOf, readText, step, type Draft } from './common.js';
import { askCancel, doCancel, myOrders } from './my-orders.js';
import { askAmount, askMethod, askStore, confirm, place, start, takeAmount } from './order.js';

/** Free-text steps: their input is an address or a card number, never a code for an interceptor. */
const TEXT_STEPS = new Set(['rewards.name', 'rewards.address', 'rewards.store', 'rewards.amount', 'rewards.payout']);

export function createRewardsFlow(deps: { rewards: RewardsService }): FlowModule {
  const { rewards } = deps;

  async function onChoice(ctx: FlowContext, value: string): Promise<FlowTurn> {
    const [, action = '', arg = '', extra = ''] = value.split(':');
    const draft = draftOf(ctx);
    switch (action) {
      case 'list':
        return list(ctx, rewards, Number(arg) || 0);
      case 'r':
        return details(ctx, rewards, arg, Number(extra) || 0);
      case 'o':
        return start(ctx, rewards, arg);
      case 'ok':
        return place(ctx, rewards, arg);
      case 'no':
        return { replies: [{ text: ctx.t('rewards:result.aborted'), choices: afterChoices(ctx) }], next: 'idle' };
      case 'orders':
        return myOrders(ctx, rewards, Number(arg) || 0);
      case 'x':
        return askCancel(ctx, rewards, arg);
      case 'xy':
        return doCancel(ctx, rewards, arg);
      case 'nm':
        if (draft && ctx.state?.step === 'rewards.name' && ctx.participant.name) return askMethod(ctx, { ...draft, name: ctx.participant.name });
        break;
      case 'm':
        if (draft && ctx.state?.step === 'rewards.method') {
          return arg === 'p'
            ? askStore(ctx, draft)
            : { replies: [{ text: ctx.t('rewards:ask.address'), choices: [cancelRow(ctx)], answer: 'free' }], next: step('address', { ...draft, method: 'address' }) };
        }
        break;
      case 'st':
        if (draft && ctx.state?.step === 'rewards.store' && ctx.participant.store) return confirm(ctx, rewards, { ...draft, store: ctx.participant.store });
        break;
      case 'amt':
        if (draft && ctx.state?.step === 'rewards.amount') return takeAmount(ctx, rewards, draft, Number(arg));
        break;
    }
    // A button from an older message whose moment has passed.
    return { replies: [ctx.t('rewards:result.stale')], next: 'keep' };
  }

  const withDraft =
    (fn: (ctx: FlowContext, draft: Draft) => Promise<FlowTurn> | FlowTurn) =>
    (ctx: FlowContext): Promise<FlowTurn> | FlowTurn => {
      const draft = draftOf(ctx);
      return draft ? fn(ctx, draft) : { next: 'menu' };
    };

  /** The amount question again, with why the last answer was refused. */
  async function askAmountAgain(ctx: FlowContext, draft: Draft): Promise<FlowTurn> {
    const reward = await rewards.get(ctx.db, draft.rewardId);
    if (!reward?.cashOut) return { replies: [ctx.t('rewards:result.not_available')], next: 'idle' };
    const { available } = await rewards.catalogue(ctx.db, ctx.participant);
    return askAmount(ctx, draft, reward, available, ctx.t('rewards:result.invalid_amount'));
  }

  return {
    id: 'rewards',
    menu: [
      { slot: 'rewards', labelKey: 'rewards:menu.rewards', value: 'rewards:list:0' },
      { labelKey: 'rewards:menu.orders', value: 'rewards:orders', order: 55 },
    ],

    captures: (s, inbound) => TEXT_STEPS.has(s) && inbound.kind === 'text',

    onChoice,

    steps: {
      'rewards.name': withDraft((ctx, draft) => {
        const v = readText(ctx, 3, 80);
        return typeof v === 'string' ? askMethod(ctx, { ...draft, name: v }) : v;
      }),
      'rewards.method': withDraft((ctx, draft) => askMethod(ctx, draft)),
      'rewards.address': withDraft((ctx, draft) => {
        const v = readText(ctx, 8, 300);
        return typeof v === 'string' ? confirm(ctx, rewards, { ...draft, method: 'address', address: v }) : v;
      }),
      'rewards.store': withDraft((ctx, draft) => {
        const v = readText(ctx, 2, 120);
        return typeof v === 'string' ? confirm(ctx, rewards, { ...draft, method: 'pickup', store: v }) : v;
      }),
      'rewards.amount': withDraft(async (ctx, draft) => {
        const typed = ctx.inbound.kind === 'text' ? Number(/\d+/.exec(ctx.inbound.text)?.[0] ?? NaN) : NaN;
        if (!Number.isInteger(typed) || typed <= 0) return askAmountAgain(ctx, draft);
        const reward = await rewards.get(ctx.db, draft.rewardId);
        if (reward?.cashOut && !isValidCashOutAmount(reward.cashOut, typed)) return askAmountAgain(ctx, draft);
        return takeAmount(ctx, rewards, draft, typed);
      }),
      'rewards.payout': withDraft((ctx, draft) => {
        const v = readText(ctx, 6, 64);
        return typeof v === 'string' ? confirm(ctx, rewards, { ...draft, payout: v }) : v;
      }),
      // Typing instead of tapping at the confirmation: show it again.
      'rewards.confirm': withDraft((ctx, draft) => confirm(ctx, rewards, draft)),
    },
  };
}
