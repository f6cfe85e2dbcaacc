/**
 * The feature areas, each with its service, chat flow, HTTP routes and workers. Areas that others
 * build on come first (campaigns before codes and sales, which notify through the outbox).
 */
import { createReconciliation } from '../services/ledger/reconcile.js';
import path from 'node:path';
import { ledgerRoutes } from '../http/routes/ledger.js';
import { participantRoutes } from '../http/routes/participants.js';
import { startLedgerMaintenance } from '../jobs/workers/ledger-maintenance.js';
import { createOutboxNotifier } from '../services/outbox/index.js';
import { createCampaigns } from '../services/campaigns/index.js';
import { createCodes, createCodeHasher, loadCodeSecret } from '../services/codes/index.js';
import { createSales } from '../services/sales/index.js';
import { createBarcodeReader } from '../services/sales/barcode.js';
import { campaignRoutes } from '../http/routes/campaigns.js';
import { codeBatchRoutes } from '../http/routes/code-batches.js';
import { salesRoutes } from '../http/routes/sales.js';
import { createCodesFlow } from '../dialog/flows/codes/index.js';
import { createSalesFlow } from '../dialog/flows/sales/index.js';
import { renderProgress } from '../dialog/flows/sales/render.js';
import { createBroadcasts, type BroadcastsService } from '../services/broadcasts/index.js';
import { createBroadcastsFlow } from '../dialog/flows/broadcasts/index.js';
import { broadcastRoutes } from '../http/routes/broadcasts.js';
import { createReceipts, createDirectoryMediaStore, createQrDecoder, createTesseractOcr, loadMediaSecret, type MediaStore } from '../services/receipts/index.js';
import { createReceiptsFlow } from '../dialog/flows/receipts/index.js';
import { receiptRoutes, receiptMediaRoutes } from '../http/routes/receipts.js';
import { createReceiptQueue, startReceiptWorker } from '../jobs/workers/receipts.js';
import { createRewards, createVoucherCipher, loadVoucherKey } from '../services/rewards/index.js';
import { createRewardsFlow } from '../dialog/flows/rewards/index.js';
import { rewardRoutes } from '../http/routes/rewards.js';
import { orderRoutes } from '../http/routes/orders.js';
import type { Config } from '../config.js';
import type { Core, Feature } from './feature.js';

export const mediaStoreOf = (config: Config): MediaStore => createDirectoryMediaStore(path.join(config.DATA_DIR, 'media'));

export function ledgerFeature(core: Core): Feature {
  const { ledger, redis, logger, life } = core;
  return {
    apiRoutes: [ledgerRoutes(ledger, { sql: core.sql, reconciliation: createReconciliation({ logger: core.logger }) }), participantRoutes({ sql: core.sql, participants: core.participants, ledger })],
    async startWorkers() {
      const maintenance = await startLedgerMaintenance({ connection: redis.bullmq(), prefix: redis.prefix, ledger, logger });
      life.add('ledger maintenance', maintenance.close);
    },
  };
}

/** Campaigns, codes and sales: services, admin routes and the two chat flows. */
export async function campaignsFeature(core: Core): Promise<Feature & { sales: ReturnType<typeof createSales>; campaigns: ReturnType<typeof createCampaigns> }> {
  const { config, sql, ledger, logger } = core;
  const notifier = createOutboxNotifier({ enqueueOutbound: core.enqueueOutbound, participants: core.participants });
  const campaigns = createCampaigns({ sql, logger, notifier });
  const codeHash = createCodeHasher(await loadCodeSecret({ configured: config.CODE_SECRET, dataDir: config.DATA_DIR }));
  const codes = createCodes({ sql, ledger, campaigns, hash: codeHash, logger });
  const sales = createSales({ ledger, campaigns, notifier, logger });
  return {
    campaigns,
    sales,
    apiRoutes: [campaignRoutes({ sql, campaigns, sales }), codeBatchRoutes({ codes }), salesRoutes({ sql, sales })],
    flows: [createCodesFlow({ codes }), createSalesFlow({ sales, readBarcode: createBarcodeReader() })],
    progress: async (db, participant, ctx) => renderProgress(ctx.t, ctx.locale, await sales.progressOf(db, participant)),
    personalData: [async (db, participant) => [{ kind: 'count', what: 'sales', n: await sales.countOf(db, participant.id) }]],
    erasureHooks: [(db, id) => sales.forgetParticipant(db, id)],
  };
}

export function broadcastsFeature(core: Core, kick: (id: string) => Promise<void>): Feature & { broadcasts: BroadcastsService } {
  const broadcasts = createBroadcasts({ sql: core.sql, enqueueOutbound: core.enqueueOutbound, defaultLocale: core.config.DEFAULT_LOCALE, kick });
  return { broadcasts, flows: [createBroadcastsFlow({ broadcasts })], apiRoutes: [broadcastRoutes({ sql: core.sql, broadcasts })] };
}

/**
 * Receipt photos: stored and acknowledged in the chat, read by the receipts worker (with OCR only
 * there), reviewed by moderators in the chat or through the API.
 */
export async function receiptsFeature(core: Core, campaigns: ReturnType<typeof createCampaigns>): Promise<Feature> {
  const { config, sql, redis, logger, life } = core;
  const receiptQueue = createReceiptQueue({ connection: redis.bullmq, prefix: redis.prefix });
  life.add('receipt queue', receiptQueue.close);
  const ocr = config.RECEIPT_OCR === 'on' && core.runs.worker ? createTesseractOcr({ dataDir: config.DATA_DIR, logger }) : undefined;
  if (ocr) {
    await ocr.prepare();
    life.add('receipt OCR', ocr.close);
  }
  const receipts = createReceipts({
    sql,
    ledger: core.ledger,
    participants: core.participants,
    enqueueOutbound: core.enqueueOutbound,
    campaigns,
    media: core.mediaStore,
    decoder: createQrDecoder(),
    ocr,
    logger,
  });
  const mediaSecret = await loadMediaSecret(config.DATA_DIR);
  return {
    flows: [createReceiptsFlow({ receipts, jobs: receiptQueue })],
    apiRoutes: [receiptRoutes({ sql: core.sql, receipts, i18n: core.i18n, mediaSecret })],
    publicRoutes: [receiptMediaRoutes({ sql: core.sql, receipts, mediaSecret })],
    erasureHooks: [(db, id) => receipts.forgetParticipant(db, id)],
    personalData: [async (db, participant) => [{ kind: 'count', what: 'receipts', n: await receipts.countOf(db, participant.id) }]],
    async startWorkers() {
      const worker = startReceiptWorker({ connection: redis.bullmq, prefix: redis.prefix, receipts, logger });
      life.add('receipt worker', worker.close);
    },
  };
}

/** Rewards: catalogue and orders API, e-voucher pool encrypted with VOUCHER_KEY, chat flow. */
export async function rewardsFeature(core: Core): Promise<Feature> {
  const { config } = core;
  const rewards = createRewards({
    ledger: core.ledger,
    participants: core.participants,
    enqueueOutbound: core.enqueueOutbound,
    cipher: createVoucherCipher(await loadVoucherKey({ configured: config.VOUCHER_KEY, dataDir: config.DATA_DIR })),
    logger: core.logger,
  });
  return {
    apiRoutes: [rewardRoutes({ sql: core.sql, rewards }), orderRoutes({ sql: core.sql, rewards })],
    flows: [createRewardsFlow({ rewards })],
    erasureHooks: [(db, id) => rewards.forgetParticipant(db, id)],
    personalData: [
      async (db, participant) => {
        const orders = await rewards.ordersOf(db, participant.id, { limit: 50 });
        const items = orders.items.map((o) => ({ at: o.createdAt, reward: o.rewardNames, delivery: o.delivery }));
        return [{ kind: 'orders', total: orders.total, items }];
      },
    ],
  };
}
