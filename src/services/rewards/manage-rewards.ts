/** The catalogue managers keep: create, change and list rewards. */
import type { Db } from '../../db/sql.js';
import { runInTransaction } from '../../db/savepoint.js';
import * as rewardsRepo from '../../db/rewards/rewards-repo.js';
import { audit } from '../../db/audit-repo.js';
import type { Reward } from '../../domain/rewards/index.js';
import { cashOutCostProblem, type RewardCreateInput, type RewardPatchInput } from '../../domain/rewards/schema.js';
import { AppError } from '../../shared/errors.js';
import { mustGetReward, type RewardsArea } from './area.js';

function toWrite(input: RewardCreateInput, base?: Reward): rewardsRepo.RewardWrite {
  return {
    type: input.type,
    status: input.status ?? base?.status ?? 'active',
    names: input.name,
    descriptions: input.description ?? base?.descriptions ?? {},
    imageUrl: input.imageUrl !== undefined ? input.imageUrl : (base?.imageUrl ?? null),
    cost: input.cost,
    stock: input.type === 'physical' ? (input.stock !== undefined ? input.stock : (base?.stock ?? null)) : null,
    availableFrom: input.availableFrom !== undefined ? input.availableFrom : (base?.availableFrom ?? null),
    availableUntil: input.availableUntil !== undefined ? input.availableUntil : (base?.availableUntil ?? null),
    roles: input.roles ?? base?.roles ?? [],
    limitPerParticipant: input.limitPerParticipant !== undefined ? input.limitPerParticipant : (base?.limitPerParticipant ?? null),
    cashOut: input.cashOut ?? base?.cashOut ?? null,
    lowStockThreshold: input.lowStockThreshold ?? base?.lowStockThreshold ?? 10,
    sortOrder: input.sortOrder ?? base?.sortOrder ?? 0,
  };
}

/** A cash-out whose dearest amount costs more points than an order can hold is refused, naming the field. */
function checkCashOutCost(write: rewardsRepo.RewardWrite): void {
  const problem = write.cashOut ? cashOutCostProblem(write.cost, write.cashOut) : undefined;
  if (problem) throw new AppError('invalid_input', `cashOut.max: ${problem}`, { details: { field: 'cashOut.max' } });
}

export function createReward(db: Db, area: RewardsArea, input: RewardCreateInput, actor: string): Promise<Reward> {
  checkCashOutCost(toWrite(input));
  return runInTransaction(db, async (tx) => {
    const programId = await area.participants.defaultProgramId(tx);
    const reward = await rewardsRepo.insert(tx, programId, toWrite(input));
    await audit(tx, actor, 'reward.create', `reward:${reward.id}`, { type: reward.type, cost: reward.cost, stock: reward.stock });
    return reward;
  });
}

export function updateReward(db: Db, id: string, input: RewardPatchInput, actor: string): Promise<Reward> {
  return runInTransaction(db, async (tx) => {
    const base = await rewardsRepo.lock(tx, id);
    if (!base) throw new AppError('not_found', `Reward ${id} not found`);
    if (base.type !== 'physical' && (input.stock != null || input.stockDelta !== undefined)) {
      throw new AppError('invalid_input', 'Only physical rewards have a stock; e-voucher stock is its code pool');
    }
    if (base.type !== 'cash_out' && input.cashOut) throw new AppError('invalid_input', 'Only cash-out rewards take cashOut');
    const { stockDelta, ...rest } = input;
    const merged = { type: base.type, name: base.names, cost: base.cost, ...rest } as RewardCreateInput;
    const write = toWrite(merged, base);
    if (base.type === 'e_voucher') write.stock = null;
    checkCashOutCost(write);
    if (write.availableFrom && write.availableUntil && write.availableUntil <= write.availableFrom) {
      throw new AppError('invalid_input', 'availableUntil must be after availableFrom');
    }
    await rewardsRepo.update(tx, id, write);
    if (stockDelta !== undefined) {
      if (base.stock === null) throw new AppError('invalid_input', 'This reward has unlimited stock; set stock first');
      const left = await rewardsRepo.addStock(tx, id, stockDelta);
      if (left === undefined) throw new AppError('conflict', `Only ${base.stock} left; cannot remove ${-stockDelta}`);
    }
    await audit(tx, actor, 'reward.update', `reward:${id}`, { fields: Object.keys(input) });
    return mustGetReward(tx, id);
  });
}

export async function listRewards(db: Db, area: RewardsArea, filter: { status?: Reward['status']; type?: Reward['type'] } = {}): Promise<Reward[]> {
  return rewardsRepo.list(db, await area.participants.defaultProgramId(db), filter);
}
