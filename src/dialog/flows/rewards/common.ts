/** What the rewards flow's screens share: the order draft, short texts and the answers to refusals. */
import type { FlowContext, FlowTurn, StepState } from '../../flow.js';
import type { Choice } from '../../types.js';
import type { PlaceResult, QuoteResult } from '../../../services/rewards/index.js';
import { money } from '../../../services/rewards/index.js';
import { localized, type Reward } from '../../../domain/rewards/index.js';

/** What an order collects step by step, kept in the conversation state. */
export interface Draft {
  rewardId: string;
  name?: string;
  method?: 'address' | 'pickup';
  address?: string;
  store?: string;
  cashAmount?: number;
  payout?: string;
  nonce?: string;
}

export const pts = (ctx: FlowContext, n: number) => ctx.t('common:points', { count: n });
export const nameOf = (ctx: FlowContext, r: Pick<Reward, 'names'>) => localized(r.names, ctx.locale);
export const draftOf = (ctx: FlowContext): Draft | undefined => {
  const d = ctx.state?.data as Draft | undefined;
  return d && typeof d.rewardId === 'string' ? d : undefined;
};
export const step = (name: string, draft: Draft): StepState => ({ step: `rewards.${name}`, data: { ...draft } });
export const clip = (s: string, max = 40) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const cleanText = (s: string) => s.replace(/\s+/g, ' ').trim();

export const cancelRow = (ctx: FlowContext): Choice[] => [{ label: ctx.t('rewards:button.abort'), value: 'rewards:no' }];

export const afterChoices = (ctx: FlowContext): Choice[][] => [
  [
    { label: ctx.t('rewards:menu.rewards'), value: 'rewards:list:0' },
    { label: ctx.t('rewards:menu.orders'), value: 'rewards:orders' },
  ],
  [{ label: ctx.t('rewards:button.home'), value: 'menu:main' }],
];

/** The answer to a refused quote or order: each reason its own clear sentence, nothing held. */
export function refusal(ctx: FlowContext, q: Exclude<QuoteResult | PlaceResult, { status: 'ok' | 'placed' | 'duplicate' }>): string {
  switch (q.status) {
    case 'not_available':
      return ctx.t('rewards:result.not_available');
    case 'out_of_stock':
      return ctx.t('rewards:result.out_of_stock', { reward: nameOf(ctx, q.reward) });
    case 'limit_reached':
      return ctx.t('rewards:result.limit_reached', { reward: nameOf(ctx, q.reward), limit: q.limit });
    case 'invalid_amount':
      return ctx.t('rewards:result.invalid_amount');
    case 'insufficient':
      return [
        ctx.t('rewards:result.insufficient', { reward: nameOf(ctx, q.reward), points: pts(ctx, q.points), available: pts(ctx, q.available) }),
        ctx.t('rewards:details.missing', { count: q.missing }),
      ].join('\n');
  }
}

export function placedText(ctx: FlowContext, r: Extract<PlaceResult, { status: 'placed' | 'duplicate' }>): string {
  if (r.status === 'duplicate') {
    const lines = [ctx.t('rewards:result.duplicate')];
    if (r.voucherCode) lines.push(ctx.t('rewards:result.your_code', { code: r.voucherCode }));
    return lines.join('\n');
  }
  const params = {
    reward: nameOf(ctx, r.reward),
    points: pts(ctx, r.order.points),
    balance: pts(ctx, r.balanceAfter),
    amount: r.order.cashAmount == null ? '' : money(ctx.locale, r.order.cashAmount, r.order.currency),
    code: r.voucherCode ?? '',
  };
  return ctx.t(`rewards:result.placed_${r.order.type}`, params);
}

/** Free text in a step; too short or too long gets the question again with a hint. */
export function readText(ctx: FlowContext, min: number, max: number): string | FlowTurn {
  if (ctx.inbound.kind !== 'text') return { replies: [ctx.t('rewards:ask.text_only')], next: 'keep' };
  const value = cleanText(ctx.inbound.text);
  if (value.length < min) return { replies: [ctx.t('rewards:ask.too_short')], next: 'keep' };
  if (value.length > max) return { replies: [ctx.t('rewards:ask.too_long', { max })], next: 'keep' };
  return value;
}
