/**
 * Sales logging for staff, approval by managers, targets with a bonus awarded exactly once, and
 * distributor sell-out imports that confirm or reject pending sales in bulk and claw back points
 * already paid for sales found invalid. One use case per file; this module binds them to their
 * dependencies.
 *
 * Ledger keys: `sale:<id>` (earn, or the pending credit; confirmed as `sale:<id>:confirm`),
 * `target:<targetId>:<participantId>` (bonus; `…:<n>` when re-earned after a withdrawal),
 * `<paid key>:clawback` (reversal) and `<paid key>:clawback:<taken so far>` (partial takes when the
 * participant had spent the points: the rest stays owed in `clawbacks` and later imports collect it).
 */
import * as repo from '../../db/sales/repo.js';
import { salesArea, type SalesDeps } from './area.js';
import { approveSale } from './approve-sale.js';
import { applySellOut, importSellOut } from './import-sell-out.js';
import { findOffer, listOffers, progressOf, targetsOf } from './list-offers.js';
import { logSale } from './log-sale.js';
import { createTarget, listSales, listTargets } from './manage-targets.js';
import type { SalesService } from './types.js';

export type * from './types.js';
export type { SalesDeps } from './area.js';
export type { TargetProgress } from '../../domain/sales/sales.js';

export function createSales(deps: SalesDeps): SalesService {
  const area = salesArea(deps);
  return {
    offers: (db, earner) => listOffers(db, area, earner),
    findOffer: (db, earner, query) => findOffer(db, area, earner, query),
    logSale: (db, input) => logSale(db, area, input),
    approve: (db, saleId, actor) => approveSale(db, area, saleId, 'confirm', actor),
    reject: (db, saleId, actor, note) => approveSale(db, area, saleId, 'reject', actor, note),
    importSellOut: (sql, csv, actor) => importSellOut(sql, area, csv, actor),
    applySellOut: (sql, rows, actor) => applySellOut(sql, area, rows, actor),
    targets: (db, earner) => targetsOf(db, area, earner),
    progressOf: (db, participant) => progressOf(db, area, participant),
    countOf: (db, participantId) => repo.countSalesOf(db, participantId),
    createTarget,
    listTargets,
    list: listSales,
    forgetParticipant: (db, participantId) => repo.forgetParticipantSales(db, participantId),
  };
}
