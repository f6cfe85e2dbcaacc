/**
 * "Rewards" and "My orders" in the chat.
 *
 * Catalogue (paged, 5 a page: one line per reward with its price and either ✅ or how many points
 * are missing, one button per reward, so it reads the same as Telegram buttons and as a WhatsApp
 * numbered menu) → details → order. A physical item asks who gets it and where (address or pickup
 * store), a cash-out asks the amount and where to pay it; an e-voucher needs nothing. Then a
 * confirmation with the balance after the order; its button carries a one-off nonce that becomes
 * the order's request key, so a double-tapped "confirm" places one order and the second tap is
 * told so. The order itself (hold + stock + row) runs on the message's transaction.
 */
import { randomBytes } from 'node:crypto';
import type { FlowContext, FlowModule, FlowTurn, StepState } from '../../flow.js';
import type { Choice, Outbound } from '../../types.js';
import type { CatalogueItem, ParticipantOrder, PlaceResult, QuoteResult, RewardsService } from '../../../services/rewards/index.js';
import { money } from '../../../services/rewards/index.js';
import {
  cashOutAmounts,
  isValidCashOutAmount,
  localized,
  participantMayCancel,
  type DeliveryDetails,
  type Reward,
} from '../../../domain/rewards/index.js';

const PAGE = 5;
const ORDERS_PAGE = 5;
/** Free-text steps: their input is an address or a card number, never a code for an interceptor. */
const TEXT_STEPS = new Set(['rewards.name', 'rewards.address', 'rewards.store', 'rewards.amount', 'rewards.payout']);

interface Draft {
  rewardId: string;
  name?: string;
  method?: 'address' | 'pickup';
  address?: string;
  store?: string;
  cashAmount?: number;
  payout?: string;
  nonce?: string;
}

const pts = (ctx: FlowContext, n: number) => ctx.t('common:points', { count: n });
const nameOf = (ctx: FlowContext, r: Pick<Reward, 'names'>) => localized(r.names, ctx.locale);
const draftOf = (ctx: FlowContext): Draft | undefined => {
  const d = ctx.state?.data as Draft | undefined;
  return d && typeof d.rewardId === 'string' ? d : undefined;
};
const step = (name: string, draft: Draft): StepState => ({ step: `rewards.${name}`, data: { ...draft } });
const clip = (s: string, max = 40) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
const cleanText = (s: string) => s.replace(/\s+/g, ' ').trim();

export function createRewardsFlow(deps: { rewards: RewardsService }): FlowModule {
  const { rewards } = deps;

  const cancelRow = (ctx: FlowContext): Choice[] => [{ label: ctx.t('rewards:button.abort'), value: 'rewards:no' }];

  function marker(item: CatalogueItem): string {
    if (item.blocked) return '⛔';
    return item.missing === 0 ? '✅' : '🔒';
  }

  async function list(ctx: FlowContext, page: number, prefix?: string): Promise<FlowTurn> {
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

  async function details(ctx: FlowContext, rewardId: string, page: number): Promise<FlowTurn> {
    const { items, available } = await rewards.catalogue(ctx.db, ctx.participant);
    const item = items.find((i) => i.reward.id === rewardId);
    if (!item) return list(ctx, page, ctx.t('rewards:result.not_available'));
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

  /** The answer to a refused quote or order: each reason its own clear sentence, nothing held. */
  function refusal(ctx: FlowContext, q: Exclude<QuoteResult | PlaceResult, { status: 'ok' | 'placed' | 'duplicate' }>): string {
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

  /** Starts an order: checks it can be ordered at all, then asks what the type needs. */
  async function start(ctx: FlowContext, rewardId: string): Promise<FlowTurn> {
    const reward = await rewards.get(rewardId, ctx.db);
    const q = await rewards.quote(ctx.db, ctx.participant, rewardId, reward?.type === 'cash_out' ? reward.cashOut?.min : undefined);
    if (q.status !== 'ok') return { replies: [{ text: refusal(ctx, q), choices: afterChoices(ctx) }], next: 'idle' };
    const draft: Draft = { rewardId };
    if (q.reward.type === 'physical') return askName(ctx, draft);
    if (q.reward.type === 'cash_out') return askAmount(ctx, draft, q.reward, q.available);
    return confirm(ctx, draft);
  }

  function askName(ctx: FlowContext, draft: Draft): FlowTurn {
    const choices: Choice[][] = [];
    if (ctx.participant.name) choices.push([{ label: clip(ctx.t('rewards:button.use', { value: ctx.participant.name })), value: 'rewards:nm' }]);
    choices.push(cancelRow(ctx));
    return { replies: [{ text: ctx.t('rewards:ask.name'), choices }], next: step('name', draft) };
  }

  function askMethod(ctx: FlowContext, draft: Draft): FlowTurn {
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

  function askStore(ctx: FlowContext, draft: Draft): FlowTurn {
    const choices: Choice[][] = [];
    if (ctx.participant.store) choices.push([{ label: clip(ctx.t('rewards:button.use', { value: ctx.participant.store })), value: 'rewards:st' }]);
    choices.push(cancelRow(ctx));
    return { replies: [{ text: ctx.t('rewards:ask.store'), choices }], next: step('store', { ...draft, method: 'pickup' }) };
  }

  function askAmount(ctx: FlowContext, draft: Draft, reward: Reward, available: number, prefix?: string): FlowTurn {
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
    return { replies: [{ text: prefix ? `${prefix}\n\n${text}` : text, choices: rows }], next: step('amount', draft) };
  }

  async function takeAmount(ctx: FlowContext, draft: Draft, amount: number): Promise<FlowTurn> {
    const reward = await rewards.get(draft.rewardId, ctx.db);
    if (!reward?.cashOut) return { replies: [ctx.t('rewards:result.not_available')], next: 'idle' };
    const q = await rewards.quote(ctx.db, ctx.participant, reward.id, amount);
    if (q.status === 'ok') {
      return {
        replies: [{ text: ctx.t('rewards:ask.payout'), choices: [cancelRow(ctx)] }],
        next: step('payout', { ...draft, cashAmount: amount }),
      };
    }
    if (q.status === 'invalid_amount' || q.status === 'insufficient') {
      const { available } = await rewards.catalogue(ctx.db, ctx.participant);
      return askAmount(ctx, draft, reward, available, refusal(ctx, q));
    }
    return { replies: [{ text: refusal(ctx, q), choices: afterChoices(ctx) }], next: 'idle' };
  }

  async function confirm(ctx: FlowContext, draft: Draft): Promise<FlowTurn> {
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

  async function place(ctx: FlowContext, nonce: string): Promise<FlowTurn> {
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

  const afterChoices = (ctx: FlowContext): Choice[][] => [
    [
      { label: ctx.t('rewards:menu.rewards'), value: 'rewards:list:0' },
      { label: ctx.t('rewards:menu.orders'), value: 'rewards:orders' },
    ],
    [{ label: ctx.t('rewards:button.home'), value: 'menu:main' }],
  ];

  function placedText(ctx: FlowContext, r: Extract<PlaceResult, { status: 'placed' | 'duplicate' }>): string {
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

  // ---- my orders ----

  async function myOrders(ctx: FlowContext, page: number): Promise<FlowTurn> {
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
      lines.push(await orderLine(ctx, o, page * ORDERS_PAGE + i + 1));
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

  async function orderLine(ctx: FlowContext, o: ParticipantOrder, n: number): Promise<string> {
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

  async function askCancel(ctx: FlowContext, orderId: string): Promise<FlowTurn> {
    const order = await rewards.getOrder(orderId, ctx.db);
    if (!order || order.participantId !== ctx.participant.id) return myOrders(ctx, 0);
    if (!participantMayCancel(order)) return { replies: [ctx.t('rewards:cancel.too_late')], next: 'idle' };
    const reward = await rewards.get(order.rewardId, ctx.db);
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

  async function doCancel(ctx: FlowContext, orderId: string): Promise<FlowTurn> {
    const r = await rewards.cancelByParticipant(ctx.db, ctx.participant.id, orderId);
    switch (r.status) {
      case 'changed':
        return { replies: [ctx.t('rewards:cancel.done', { points: pts(ctx, r.order.points) }), ...(await myOrders(ctx, 0)).replies!] };
      case 'unchanged':
        return { replies: [ctx.t('rewards:cancel.already')] };
      case 'not_allowed':
        return { replies: [ctx.t('rewards:cancel.too_late')] };
      case 'not_found':
        return myOrders(ctx, 0);
    }
  }

  // ---- choices and steps ----

  async function onChoice(ctx: FlowContext, value: string): Promise<FlowTurn> {
    const [, action = '', arg = '', extra = ''] = value.split(':');
    const draft = draftOf(ctx);
    switch (action) {
      case 'list':
        return list(ctx, Number(arg) || 0);
      case 'r':
        return details(ctx, arg, Number(extra) || 0);
      case 'o':
        return start(ctx, arg);
      case 'ok':
        return place(ctx, arg);
      case 'no':
        return { replies: [{ text: ctx.t('rewards:result.aborted'), choices: afterChoices(ctx) }], next: 'idle' };
      case 'orders':
        return myOrders(ctx, Number(arg) || 0);
      case 'x':
        return askCancel(ctx, arg);
      case 'xy':
        return doCancel(ctx, arg);
      case 'nm':
        if (draft && ctx.state?.step === 'rewards.name' && ctx.participant.name) return askMethod(ctx, { ...draft, name: ctx.participant.name });
        break;
      case 'm':
        if (draft && ctx.state?.step === 'rewards.method') {
          return arg === 'p'
            ? askStore(ctx, draft)
            : { replies: [{ text: ctx.t('rewards:ask.address'), choices: [cancelRow(ctx)] }], next: step('address', { ...draft, method: 'address' }) };
        }
        break;
      case 'st':
        if (draft && ctx.state?.step === 'rewards.store' && ctx.participant.store) return confirm(ctx, { ...draft, store: ctx.participant.store });
        break;
      case 'amt':
        if (draft && ctx.state?.step === 'rewards.amount') return takeAmount(ctx, draft, Number(arg));
        break;
    }
    // A button from an older message whose moment has passed.
    return { replies: [ctx.t('rewards:result.stale')], next: 'keep' };
  }

  /** Free text in a step; too short or too long gets the question again with a hint. */
  function text(ctx: FlowContext, min: number, max: number): string | FlowTurn {
    if (ctx.inbound.kind !== 'text') return { replies: [ctx.t('rewards:ask.text_only')], next: 'keep' };
    const value = cleanText(ctx.inbound.text);
    if (value.length < min) return { replies: [ctx.t('rewards:ask.too_short')], next: 'keep' };
    if (value.length > max) return { replies: [ctx.t('rewards:ask.too_long', { max })], next: 'keep' };
    return value;
  }

  const withDraft =
    (fn: (ctx: FlowContext, draft: Draft) => Promise<FlowTurn> | FlowTurn) =>
    (ctx: FlowContext): Promise<FlowTurn> | FlowTurn => {
      const draft = draftOf(ctx);
      return draft ? fn(ctx, draft) : { next: 'menu' };
    };

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
        const v = text(ctx, 3, 80);
        return typeof v === 'string' ? askMethod(ctx, { ...draft, name: v }) : v;
      }),
      'rewards.method': withDraft((ctx, draft) => askMethod(ctx, draft)),
      'rewards.address': withDraft((ctx, draft) => {
        const v = text(ctx, 8, 300);
        return typeof v === 'string' ? confirm(ctx, { ...draft, method: 'address', address: v }) : v;
      }),
      'rewards.store': withDraft((ctx, draft) => {
        const v = text(ctx, 2, 120);
        return typeof v === 'string' ? confirm(ctx, { ...draft, method: 'pickup', store: v }) : v;
      }),
      'rewards.amount': withDraft(async (ctx, draft) => {
        const typed = ctx.inbound.kind === 'text' ? Number(/\d+/.exec(ctx.inbound.text)?.[0] ?? NaN) : NaN;
        if (!Number.isInteger(typed) || typed <= 0) {
          const reward = await rewards.get(draft.rewardId, ctx.db);
          if (!reward?.cashOut) return { replies: [ctx.t('rewards:result.not_available')], next: 'idle' };
          const { available } = await rewards.catalogue(ctx.db, ctx.participant);
          return askAmount(ctx, draft, reward, available, ctx.t('rewards:result.invalid_amount'));
        }
        const reward = await rewards.get(draft.rewardId, ctx.db);
        if (reward?.cashOut && !isValidCashOutAmount(reward.cashOut, typed)) {
          const { available } = await rewards.catalogue(ctx.db, ctx.participant);
          return askAmount(ctx, draft, reward, available, ctx.t('rewards:result.invalid_amount'));
        }
        return takeAmount(ctx, draft, typed);
      }),
      'rewards.payout': withDraft((ctx, draft) => {
        const v = text(ctx, 6, 64);
        return typeof v === 'string' ? confirm(ctx, { ...draft, payout: v }) : v;
      }),
      // Typing instead of tapping at the confirmation: show it again.
      'rewards.confirm': withDraft((ctx, draft) => confirm(ctx, draft)),
    },
  };
}
