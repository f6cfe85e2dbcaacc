/**
 * "Log a sale" for staff (retail staff, sales reps, installers): product (typed SKU/EAN, picked
 * from the list, or a barcode photo decoded offline) → quantity → invoice/receipt number →
 * optional photo → points, with target progress after each sale. "My targets" shows progress.
 * The module's steps capture all input, so an invoice number is never taken for a code.
 */
import type { FlowContext, FlowModule, FlowTurn } from '../../flow.js';
import type { Outbound } from '../../types.js';
import { STAFF_ROLES } from '../../../domain/participants/index.js';
import { campaignName } from '../../../domain/campaigns/campaign.js';
import { parseQuantity } from '../../../domain/sales/sales.js';
import type { LogSaleResult, ProductOffer, SalesService, TargetView } from '../../../services/sales/index.js';
import { renderProgress } from './render.js';
import type { BarcodeReader } from '../../../services/sales/barcode.js';
import { earnerOf } from '../codes/index.js';
import { pointsText } from '../codes/render.js';

const LIST_SIZE = 8;

const productName = (ctx: FlowContext, o: Pick<ProductOffer, 'name' | 'names'>) => o.names[ctx.locale] ?? o.name;

export const progressLines = (ctx: Pick<FlowContext, 't' | 'locale'>, targets: TargetView[]): string[] =>
  renderProgress(ctx.t, ctx.locale, targets);

export function createSalesFlow(deps: { sales: SalesService; readBarcode?: BarcodeReader }): FlowModule {
  const cancelRow = (ctx: FlowContext) => [{ label: ctx.t('sales:cancel'), value: 'sales:cancel' }];

  async function askProduct(ctx: FlowContext, prefix?: string): Promise<FlowTurn> {
    const offers = await deps.sales.offers(ctx.db, earnerOf(ctx));
    if (!offers.length) return { replies: [ctx.t('sales:no_products')], next: 'menu' };
    const choices = offers.slice(0, LIST_SIZE).map((o) => [{ label: `${productName(ctx, o)} (${o.sku})`, value: `sales:p:${o.productId}` }]);
    const msg: Outbound = {
      text: prefix ? `${prefix}\n\n${ctx.t('sales:ask_product')}` : ctx.t('sales:ask_product'),
      choices: [...choices, cancelRow(ctx)],
    };
    return { replies: [msg], next: { step: 'sales.product' } };
  }

  function askQuantity(ctx: FlowContext, offer: ProductOffer): FlowTurn {
    return {
      replies: [
        {
          text: ctx.t('sales:ask_quantity', { product: productName(ctx, offer), points: pointsText(ctx.t, offer.pointsPerUnit) }),
          choices: [cancelRow(ctx)],
          answer: 'free',
        },
      ],
      next: { step: 'sales.quantity', data: { productId: offer.productId } },
    };
  }

  async function finish(ctx: FlowContext, data: Record<string, unknown>, photoRef: string | null): Promise<FlowTurn> {
    const r = await deps.sales.logSale(ctx.db, {
      participant: earnerOf(ctx),
      productId: String(data.productId),
      quantity: Number(data.quantity),
      invoice: String(data.invoice),
      photoRef,
    });
    return { replies: [resultText(ctx, r)], next: 'menu' };
  }

  function resultText(ctx: FlowContext, r: LogSaleResult): string {
    switch (r.status) {
      case 'logged': {
        const params = {
          product: productName(ctx, r.offer),
          quantity: r.quantity,
          points: pointsText(ctx.t, r.points),
          campaign: campaignName({ name: r.offer.campaignName, names: r.offer.campaignNames }, ctx.locale),
          balance: pointsText(ctx.t, r.balance.available),
        };
        const lines = [ctx.t(r.pending ? 'sales:logged_pending' : 'sales:logged', params)];
        for (const b of r.bonuses) lines.push(ctx.t('sales:target_bonus', { points: pointsText(ctx.t, b.points) }));
        lines.push(...progressLines(ctx, r.targets));
        return lines.join('\n');
      }
      case 'duplicate_invoice':
        return ctx.t('sales:duplicate_invoice', { at: r.at });
      case 'unknown_product':
        return ctx.t('sales:product_unknown');
      case 'daily_cap':
      case 'campaign_cap':
        return ctx.t(`sales:${r.status}`, { cap: pointsText(ctx.t, r.cap) });
      case 'budget_exhausted':
        return ctx.t('sales:budget_exhausted');
    }
  }

  const data = (ctx: FlowContext) => ctx.state?.data ?? {};

  return {
    id: 'sales',
    menu: [
      { slot: 'sale', labelKey: 'sales:menu_log', value: 'sales:log', roles: STAFF_ROLES, order: 15 },
      { labelKey: 'sales:menu_targets', value: 'sales:targets', roles: STAFF_ROLES, order: 16 },
    ],

    captures: (step) => step.startsWith('sales.'),

    async onChoice(ctx, value) {
      if (value === 'sales:log') return askProduct(ctx);
      if (value === 'sales:cancel') return { replies: [ctx.t('sales:cancelled')], next: 'menu' };
      if (value === 'sales:targets') {
        const lines = progressLines(ctx, await deps.sales.targets(ctx.db, earnerOf(ctx)));
        return { replies: [lines.length ? lines.join('\n') : ctx.t('sales:no_targets')], next: 'menu' };
      }
      if (value.startsWith('sales:p:')) {
        const offer = (await deps.sales.offers(ctx.db, earnerOf(ctx))).find((o) => o.productId === value.slice('sales:p:'.length));
        return offer ? askQuantity(ctx, offer) : askProduct(ctx, ctx.t('sales:product_unknown'));
      }
      if (value === 'sales:skip' && ctx.state?.step === 'sales.photo') return finish(ctx, data(ctx), null);
      return { next: 'menu' };
    },

    steps: {
      'sales.product': async (ctx) => {
        const earner = earnerOf(ctx);
        let offer: ProductOffer | undefined;
        if (ctx.inbound.kind === 'text') offer = await deps.sales.findOffer(ctx.db, earner, ctx.inbound.text);
        else if (ctx.inbound.kind === 'photo' && deps.readBarcode) {
          const bytes = await ctx.inbound.media.load();
          for (const gtin of await deps.readBarcode(bytes).catch(() => [] as string[])) {
            offer ??= await deps.sales.findOffer(ctx.db, earner, gtin);
          }
          if (!offer) return askProduct(ctx, ctx.t('sales:barcode_unreadable'));
        }
        return offer ? askQuantity(ctx, offer) : askProduct(ctx, ctx.t('sales:product_unknown'));
      },
      'sales.quantity': (ctx) => {
        const n = ctx.inbound.kind === 'text' ? parseQuantity(ctx.inbound.text) : undefined;
        if (n === undefined) return { replies: [{ text: ctx.t('sales:bad_quantity'), choices: [cancelRow(ctx)], answer: 'free' }], next: 'keep' };
        return {
          replies: [{ text: ctx.t('sales:ask_invoice'), choices: [cancelRow(ctx)], answer: 'free' }],
          next: { step: 'sales.invoice', data: { ...data(ctx), quantity: n } },
        };
      },
      'sales.invoice': (ctx) => {
        const invoice = ctx.inbound.kind === 'text' ? ctx.inbound.text.trim() : '';
        if (invoice.length < 3 || invoice.length > 40) {
          return { replies: [{ text: ctx.t('sales:bad_invoice'), choices: [cancelRow(ctx)], answer: 'free' }], next: 'keep' };
        }
        return {
          replies: [
            {
              text: ctx.t('sales:ask_photo'),
              choices: [[{ label: ctx.t('sales:skip_photo'), value: 'sales:skip' }], cancelRow(ctx)],
            },
          ],
          next: { step: 'sales.photo', data: { ...data(ctx), invoice } },
        };
      },
      'sales.photo': (ctx) => {
        if (ctx.inbound.kind === 'photo') return finish(ctx, data(ctx), `${ctx.identity.channel}:${ctx.inbound.media.ref}`);
        // Any text means "no photo": the sale is not held hostage to a picture.
        return finish(ctx, data(ctx), null);
      },
    },
  };
}
