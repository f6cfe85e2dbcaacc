/**
 * The catalogue in the chat: paged, 5 a page, one line per reward with its price and either ✅ or
 * how many points are missing, one button per reward (Telegram buttons, a WhatsApp numbered menu),
 * and a reward's details with the button that starts an order.
 */
import type { FlowContext, FlowTurn } from '../../flow.js';
import type { Choice, Outbound } from '../../types.js';
import type { CatalogueItem, RewardsService } from '../../../services/rewards/index.js';
import { money } from '../../../services/rewards/index.js';
import { localized } from '../../../domain/rewards/index.js';
import { clip, nameOf, pts } from './common.js';

const PAGE = 5;

function marker(item: CatalogueItem): string {
  if (item.blocked) return '⛔';
  return item.missing === 0 ? '✅' : '🔒';
}

export async function list(ctx: FlowContext, rewards: RewardsService, page: number, prefix?: string): Promise<FlowTurn> {
  const { items, available } = await rewards.catalogue(ctx.db, ctx.participant);
  if (!items.length) return { replies: [ctx.t('rewards:list.empty')], next: 'menu' };
  const pages = Math.ceil(items.length / PAGE);
  const p = Math.min(Math.max(page, 0), pages - 1);
  const shown = items.slice(p * PAGE, p * PAGE + PAGE);
  const lines = shown.map((item) => {
    const price = item.reward.type === 'cash_out' ? ctx.t('rewards:list.from', { points: pts(ctx, item.points) }) : pts(ctx, item.points);
    const base = `${marker(item)} ${nameOf(ctx, item.reward)} — ${price}`;
    if (item.blocked) return `${base} (${ctx.t(`rewards:list.${item.blocked}`)})`;
    return item.missing > 0 ? `${base} (${ctx.t('rewards:list.missing', { count: item.missing })})` : base;
  });
  const header = pages > 1 ? ctx.t('rewards:list.title_paged', { page: p + 1, pages }) : ctx.t('rewards:list.title');
  const text = [
    ...(prefix ? [prefix, ''] : []),
    header,
    ctx.t('rewards:list.balance', { points: pts(ctx, available) }),
    '',
    ...lines,
    '',
    ctx.t('rewards:list.pick'),
  ].join('\n');
  const choices: Choice[][] = shown.map((item) => [
    { label: clip(`${marker(item)} ${nameOf(ctx, item.reward)}`), value: `rewards:r:${item.reward.id}:${p}` },
  ]);
  const nav: Choice[] = [];
  if (p > 0) nav.push({ label: ctx.t('rewards:button.prev'), value: `rewards:list:${p - 1}` });
  if (p < pages - 1) nav.push({ label: ctx.t('rewards:button.next'), value: `rewards:list:${p + 1}` });
  if (nav.length) choices.push(nav);
  choices.push([
    { label: ctx.t('rewards:menu.orders'), value: 'rewards:orders' },
    { label: ctx.t('rewards:button.home'), value: 'menu:main' },
  ]);
  return { replies: [{ text, choices }], next: 'idle' };
}

export async function details(ctx: FlowContext, rewards: RewardsService, rewardId: string, page: number): Promise<FlowTurn> {
  const { items, available } = await rewards.catalogue(ctx.db, ctx.participant);
  const item = items.find((i) => i.reward.id === rewardId);
  if (!item) return list(ctx, rewards, page, ctx.t('rewards:result.not_available'));
  const r = item.reward;
  const lines = [`🎁 ${nameOf(ctx, r)}`];
  const description = localized(r.descriptions, ctx.locale);
  if (description) lines.push('', description);
  lines.push('');
  if (r.type === 'cash_out' && r.cashOut) {
    const c = r.cashOut;
    lines.push(
      ctx.t('rewards:details.rate', { unit: money(ctx.locale, 1, c.currency), points: pts(ctx, r.cost) }),
      ctx.t('rewards:details.range', {
        min: money(ctx.locale, c.min, c.currency),
        max: money(ctx.locale, c.max, c.currency),
        step: money(ctx.locale, c.step, c.currency),
      }),
    );
  } else lines.push(ctx.t('rewards:details.price', { points: pts(ctx, r.cost) }));
  if (r.type === 'physical' && r.stock !== null && r.stock > 0) lines.push(ctx.t('rewards:details.stock', { count: r.stock }));
  if (r.type === 'e_voucher') lines.push(ctx.t('rewards:details.voucher'));
  if (r.limitPerParticipant !== null) lines.push(ctx.t('rewards:details.limit', { limit: r.limitPerParticipant }));
  if (r.availableUntil) lines.push(ctx.t('rewards:details.until', { at: r.availableUntil }));
  lines.push('');
  if (item.blocked) lines.push(ctx.t(`rewards:details.${item.blocked}`));
  else if (item.missing > 0) {
    lines.push(ctx.t('rewards:details.missing', { count: item.missing }), ctx.t('rewards:list.balance', { points: pts(ctx, available) }));
  } else lines.push(ctx.t('rewards:details.affordable', { points: pts(ctx, available) }));

  const choices: Choice[][] = [];
  if (!item.blocked && item.missing === 0) {
    choices.push([{ label: ctx.t(`rewards:button.order_${r.type}`), value: `rewards:o:${r.id}` }]);
  }
  choices.push([
    { label: ctx.t('rewards:button.back'), value: `rewards:list:${page}` },
    { label: ctx.t('rewards:button.home'), value: 'menu:main' },
  ]);
  const message: Outbound = { text: lines.join('\n'), choices };
  if (r.imageUrl) message.image = { url: r.imageUrl };
  return { replies: [message], next: 'idle' };
}

