/** Managers' side of targets and sales: create and list targets, list sales. */
import type { Db } from '../../db/sql.js';
import { runInTransaction } from '../../db/savepoint.js';
import * as campaignsRepo from '../../db/campaigns/repo.js';
import * as repo from '../../db/sales/repo.js';
import { audit } from '../../db/audit-repo.js';
import type { TargetInput } from '../../domain/campaigns/rules-schema.js';
import { AppError } from '../../shared/errors.js';
import type { SalesFilter } from './types.js';

export function createTarget(db: Db, campaignId: string, input: TargetInput, actor: string): Promise<repo.TargetRow> {
  return runInTransaction(db, async (tx) => {
    const c = await campaignsRepo.getCampaign(tx, campaignId);
    if (!c) throw new AppError('not_found', 'No such campaign');
    const t = await repo.insertTarget(tx, {
      campaignId,
      participantId: input.participantId ?? null,
      store: input.store ?? null,
      metric: input.metric,
      goal: input.goal,
      bonusPoints: input.bonusPoints,
    });
    await audit(tx, actor, 'target.create', `target:${t.id}`, { campaignId, ...input });
    return t;
  });
}

export async function listTargets(db: Db, campaignId: string): Promise<Array<repo.TargetRow & { done: number }>> {
  const rows = await repo.targetsOfCampaign(db, campaignId);
  return Promise.all(rows.map(async (t) => ({ ...t, done: await repo.targetDone(db, t) })));
}

export const listSales = (db: Db, filter: SalesFilter) =>
  repo.listSales(db, {
    status: filter.status,
    campaignId: filter.campaignId,
    limit: Math.min(filter.limit ?? 50, 500),
    offset: filter.offset ?? 0,
  });
