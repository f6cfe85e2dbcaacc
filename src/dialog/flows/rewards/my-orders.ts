/** "My orders" in the chat: the participant's orders, paged, with a cancel button while that is allowed. */
import type { FlowContext, FlowTurn } from '../../flow.js';
import type { Choice } from '../../types.js';
import type { ParticipantOrder, RewardsService } from '../../../services/rewards/index.js';
import { money } from '../../../services/rewards/index.js';
import { localized, participantMayCancel } from '../../../domain/rewards/index.js';
import { nameOf, pts } from './common.js';

const ORDERS_PAGE = 5;

export async function myOrders(ctx: FlowContext, rewards: RewardsService, page: number): Promise<FlowTurn> {
  const { items, total } = await rewards.ordersOf(ctx.db, ctx.participant.id, { limit: ORDERS_PAGE, offset: page * ORDERS_PAGE });
  if (!total) {
    return {
      replies: [{ text: ctx.t('rewards:orders.empty'), choices: [[{ label: ctx.t('rewards:menu.rewards'), value: 'rewards:list:0' }]] }],
      next: 'idle',
    };
  }
  const lines = [total > ORDERS_PAGE ? ctx.t('rewards:orders.title_paged', { from: page * ORDERS_PAGE + 1, to: page * ORDERS_PAGE + items.length, total }) : ctx.t('rewards:orders.title'), ''];
  const choices: Choice[][] = [];
  for (const [i, o] of items.entries()) {
    lines.push(await orderLine(ctx, rewards, o, page * ORDERS_PAGE + i + 1));
    if (participantMayCancel(o)) {
      choices.push([{ label: ctx.t('rewards:button.cancel_order', { n: page * ORDERS_PAGE + i + 1 }), value: `rewards:x:${o.id}` }]);
    }
  }
  const nav: Choice[] = [];
  if (page > 0) nav.push({ label: ctx.t('rewards:button.prev'), value: `rewards:orders:${page - 1}` });
  if ((page + 1) * ORDERS_PAGE < total) nav.push({ label: ctx.t('rewards:button.next'), value: `rewards:orders:${page + 1}` });
  if (nav.length) choices.push(nav);
  choices.push([
    { label: ctx.t('rewards:menu.rewards'), value: 'rewards:list:0' },
    { label: ctx.t('rewards:button.home'), value: 'menu:main' },
  ]);
  return { replies: [{ text: lines.join('\n'), choices }], next: 'idle' };
}

async function orderLine(ctx: FlowContext, rewards: RewardsService, o: ParticipantOrder, n: number): Promise<string> {
  const what =
    o.type === 'cash_out' && o.cashAmount != null
      ? `${localized(o.rewardNames, ctx.locale)} ${money(ctx.locale, o.cashAmount, o.currency)}`
      : localized(o.rewardNames, ctx.locale);
  const line = ctx.t('rewards:orders.line', {
    n,
    reward: what,
    points: pts(ctx, o.points),
    status: ctx.t(`rewards:status.${o.type}.${o.status}`),
    at: o.createdAt,
  });
  const extra: string[] = [];
  if (o.type === 'e_voucher' && o.status === 'delivered') {
    const code = await rewards.voucherCode(ctx.db, o.id);
    if (code) extra.push(ctx.t('rewards:orders.code', { code }));
  }
  if (o.tracking) extra.push(ctx.t('rewards:orders.tracking', { tracking: o.tracking }));
  if (o.status === 'cancelled' && o.cancelReason) extra.push(ctx.t('rewards:orders.reason', { reason: o.cancelReason }));
  return [line, ...extra.map((e) => `   ${e}`)].join('\n');
}

export async function askCancel(ctx: FlowContext, rewards: RewardsService, orderId: string): Promise<FlowTurn> {
  const order = await rewards.getOrder(ctx.db, orderId);
  if (!order || order.participantId !== ctx.participant.id) return myOrders(ctx, rewards, 0);
  if (!participantMayCancel(order)) return { replies: [ctx.t('rewards:cancel.too_late')], next: 'idle' };
  const reward = await rewards.get(ctx.db, order.rewardId);
  return {
    replies: [
      {
        text: ctx.t('rewards:cancel.ask', { reward: reward ? nameOf(ctx, reward) : '', points: pts(ctx, order.points) }),
        choices: [
          [
            { label: ctx.t('rewards:button.cancel_yes'), value: `rewards:xy:${order.id}` },
            { label: ctx.t('rewards:button.cancel_no'), value: 'rewards:orders' },
          ],
        ],
      },
    ],
    next: 'idle',
  };
}

export async function doCancel(ctx: FlowContext, rewards: RewardsService, orderId: string): Promise<FlowTurn> {
  const r = await rewards.cancelByParticipant(ctx.db, ctx.participant.id, orderId);
  switch (r.status) {
    case 'changed':
      return { replies: [ctx.t('rewards:cancel.done', { points: pts(ctx, r.order.points) }), ...(await myOrders(ctx, rewards, 0)).replies!] };
    case 'unchanged':
      return { replies: [ctx.t('rewards:cancel.already')] };
    case 'not_allowed':
      return { replies: [ctx.t('rewards:cancel.too_late')] };
    case 'not_found':
      return myOrders(ctx, rewards, 0);
  }
}

