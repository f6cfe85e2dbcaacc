/**
 * What the sales use cases share: their dependencies and the few helpers more than one of them
 * needs (ledger keys, the points text of notices, giving back a campaign's caps).
 */
import type { Db } from '../../db/sql.js';
import * as campaignsRepo from '../../db/campaigns/repo.js';
import type { Translate } from '../../i18n/index.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Ledger } from '../ledger/index.js';
import type { CampaignsService, Notifier } from '../campaigns/index.js';

export interface SalesDeps {
  ledger: Ledger;
  campaigns: CampaignsService;
  notifier?: Notifier;
  clock?: Clock;
  logger?: Logger;
}

export interface SalesArea extends SalesDeps {
  clock: Clock;
}

export const salesArea = (deps: SalesDeps): SalesArea => ({ ...deps, clock: deps.clock ?? systemClock });

/** The ledger key of a sale's earn (or pending credit). */
export const saleKey = (saleId: string) => `sale:${saleId}`;

/** A target bonus; a re-earned one (after a withdrawal) carries its generation. */
export const bonusKey = (targetId: string, participantId: string, generation: number) =>
  generation === 1 ? `target:${targetId}:${participantId}` : `target:${targetId}:${participantId}:${generation}`;

export const pointsText = (t: Translate, n: number) => t('common:points', { count: n });

/** Gives back to the campaign's caps and budget what a rejection or clawback took (reserved at `at`). */
export async function releaseAward(db: Db, area: SalesArea, campaignId: string, participantId: string, n: number, at: Date): Promise<void> {
  if (n <= 0) return;
  const c = await campaignsRepo.getCampaign(db, campaignId);
  if (c) await area.campaigns.releaseAward(db, c, participantId, n, at);
}
