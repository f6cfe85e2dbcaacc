/**
 * Ordering a reward in the chat. A physical item asks who gets it and where (address or pickup
 * store), a cash-out asks the amount and where to pay it; an e-voucher needs nothing. Then a
 * confirmation with the balance after the order; its button carries a one-off nonce that becomes
 * the order's request key, so a double-tapped "confirm" places one order and the second tap is
 * told so. The order itself (hold + stock + row) runs on the message's transaction.
 */
import { randomBytes } from 'node:crypto';
import type { FlowContext, FlowTurn } from '../../flow.js';
import type { Choice } from '../../types.js';
import type { RewardsService } from '../../../services/rewards/index.js';
import { money } from '../../../services/rewards/index.js';
import { cashOutAmounts, type DeliveryDetails, type Reward } from '../../../domain/rewards/index.js';
import { afterChoices, cancelRow, clip, draftOf, nameOf, placedText, pts, refusal, step, type Draft } from './common.js';

/** Starts an order: checks it can be ordered at all, then asks what the type needs. */
export async function start(ctx: FlowContext, rewards: RewardsService, rewardId: string): Promise<FlowTurn> {
  const reward = await rewards.get(ctx.db, rewardId);
  const q = await rewards.quote(ctx.db, ctx.participant, rewardId, reward?.type === 'cash_out' ? reward.cashOut?.min : undefined);
  if (q.status !== 'ok') return { replies: [{ text: refusal(ctx, q), choices: afterChoices(ctx) }], next: 'idle' };
  const draft: Draft = { rewardId };
  if (q.reward.type === 'physical') return askName(ctx, draft);
  if (q.reward.type === 'cash_out') return askAmount(ctx, draft, q.reward, q.available);
  return confirm(ctx, rewards, draft);
}

export function askName(ctx: FlowContext, draft: Draft): FlowTurn {
  const choices: Choice[][] = [];
  if (ctx.participant.name) choices.push([{ label: clip(ctx.t('rewards:button.use', { value: ctx.participant.name })), value: 'rewards:nm' }]);
  choices.push(cancelRow(ctx));
  return { replies: [{ text: ctx.t('rewards:ask.name'), choices, answer: 'free' }], next: step('name', draft) };
}

export function askMethod(ctx: FlowContext, draft: Draft): FlowTurn {
  return {
    replies: [
      {
        text: ctx.t('rewards:ask.method'),
        choices: [
          [{ label: ctx.t('rewards:button.address'), value: 'rewards:m:a' }],
          [{ label: ctx.t('rewards:button.pickup'), value: 'rewards:m:p' }],
          cancelRow(ctx),
        ],
      },
    ],
    next: step('method', draft),
  };
}

export function askStore(ctx: FlowContext, draft: Draft): FlowTurn {
  const choices: Choice[][] = [];
  if (ctx.participant.store) choices.push([{ label: clip(ctx.t('rewards:button.use', { value: ctx.participant.store })), value: 'rewards:st' }]);
  choices.push(cancelRow(ctx));
  return { replies: [{ text: ctx.t('rewards:ask.store'), choices, answer: 'free' }], next: step('store', { ...draft, method: 'pickup' }) };
}

export function askAmount(ctx: FlowContext, draft: Draft, reward: Reward, available: number, prefix?: string): FlowTurn {
  const c = reward.cashOut!;
  const affordable = cashOutAmounts(c).filter((a) => a * reward.cost <= available);
  // A phone screen holds about eight buttons; the highest affordable amount is always offered.
  const shown = affordable.length > 8 ? [...affordable.slice(0, 7), affordable.at(-1)!] : affordable;
  const choices = shown.map((a) => ({ label: `${money(ctx.locale, a, c.currency)} · ${a * reward.cost}`, value: `rewards:amt:${a}` }));
  const rows: Choice[][] = [];
  for (let i = 0; i < choices.length; i += 2) rows.push(choices.slice(i, i + 2));
  rows.push(cancelRow(ctx));
  const text = ctx.t('rewards:ask.amount', {
    min: money(ctx.locale, c.min, c.currency),
    max: money(ctx.locale, c.max, c.currency),
    step: money(ctx.locale, c.step, c.currency),
    points: pts(ctx, available),
  });
  return { replies: [{ text: prefix ? `${prefix}\n\n${text}` : text, choices: rows, answer: 'free' }], next: step('amount', draft) };
}

export async function takeAmount(ctx: FlowContext, rewards: RewardsService, draft: Draft, amount: number): Promise<FlowTurn> {
  const reward = await rewards.get(ctx.db, draft.rewardId);
  if (!reward?.cashOut) return { replies: [ctx.t('rewards:result.not_available')], next: 'idle' };
  const q = await rewards.quote(ctx.db, ctx.participant, reward.id, amount);
  if (q.status === 'ok') {
    return {
      replies: [{ text: ctx.t('rewards:ask.payout'), choices: [cancelRow(ctx)], answer: 'free' }],
      next: step('payout', { ...draft, cashAmount: amount }),
    };
  }
  if (q.status === 'invalid_amount' || q.status === 'insufficient') {
    const { available } = await rewards.catalogue(ctx.db, ctx.participant);
    return askAmount(ctx, draft, reward, available, refusal(ctx, q));
  }
  return { replies: [{ text: refusal(ctx, q), choices: afterChoices(ctx) }], next: 'idle' };
}

export async function confirm(ctx: FlowContext, rewards: RewardsService, draft: Draft): Promise<FlowTurn> {
  const q = await rewards.quote(ctx.db, ctx.participant, draft.rewardId, draft.cashAmount);
  if (q.status !== 'ok') return { replies: [{ text: refusal(ctx, q), choices: afterChoices(ctx) }], next: 'idle' };
  const r = q.reward;
  const nonce = randomBytes(9).toString('base64url');
  const lines = [ctx.t('rewards:confirm.title'), ''];
  if (r.type === 'cash_out') {
    lines.push(ctx.t('rewards:confirm.cash', { reward: nameOf(ctx, r), amount: money(ctx.locale, draft.cashAmount!, r.cashOut!.currency) }));
  } else lines.push(`🎁 ${nameOf(ctx, r)}`);
  lines.push(ctx.t('rewards:confirm.cost', { points: pts(ctx, q.points) }), ctx.t('rewards:confirm.after', { points: pts(ctx, q.balanceAfter) }));
  if (draft.method === 'address') lines.push(ctx.t('rewards:confirm.to_address', { name: draft.name, address: draft.address }));
  if (draft.method === 'pickup') lines.push(ctx.t('rewards:confirm.to_store', { name: draft.name, store: draft.store }));
  if (r.type === 'cash_out') lines.push(ctx.t('rewards:confirm.to_payout', { payout: draft.payout }));
  if (r.type === 'e_voucher') lines.push(ctx.t('rewards:confirm.voucher'));
  if (r.type !== 'e_voucher') lines.push('', ctx.t('rewards:confirm.hold_note'));
  return {
    replies: [
      {
        text: lines.join('\n'),
        choices: [[{ label: ctx.t('rewards:button.confirm'), value: `rewards:ok:${nonce}` }], cancelRow(ctx)],
      },
    ],
    next: step('confirm', { ...draft, nonce }),
  };
}

function deliveryOf(draft: Draft): DeliveryDetails {
  if (draft.method === 'address') return { method: 'address', name: draft.name!, address: draft.address! };
  if (draft.method === 'pickup') return { method: 'pickup', name: draft.name!, store: draft.store! };
  if (draft.payout) return { method: 'payout', payout: draft.payout };
  return { method: 'none' };
}

export async function place(ctx: FlowContext, rewards: RewardsService, nonce: string): Promise<FlowTurn> {
  const draft = draftOf(ctx);
  const requestKey = `chat:${ctx.participant.id}:${nonce}`;
  if (!draft || ctx.state?.step !== 'rewards.confirm' || draft.nonce !== nonce) {
    // A second tap after the first placed the order, or an old confirmation: never a new order.
    const earlier = await rewards.orderByRequestKey(ctx.db, ctx.participant.programId, requestKey);
    if (earlier) return { replies: [placedText(ctx, earlier)], next: 'keep' };
    return { replies: [ctx.t('rewards:result.stale')], next: 'keep' };
  }
  const r = await rewards.placeOrder(ctx.db, {
    participant: ctx.participant,
    rewardId: draft.rewardId,
    requestKey,
    ...(draft.cashAmount !== undefined ? { cashAmount: draft.cashAmount } : {}),
    delivery: deliveryOf(draft),
  });
  if (r.status === 'placed' || r.status === 'duplicate') {
    return { replies: [placedText(ctx, r), { text: ctx.t('rewards:after'), choices: afterChoices(ctx) }], next: 'idle' };
  }
  return { replies: [{ text: refusal(ctx, r), choices: afterChoices(ctx) }], next: 'idle' };
}

