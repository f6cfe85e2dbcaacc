/** E-voucher codes into a reward's pool (encrypted, deduplicated by keyed hash), and its stock levels. */
import type { Db } from '../../db/sql.js';
import { runInTransaction } from '../../db/savepoint.js';
import * as rewardsRepo from '../../db/rewards/rewards-repo.js';
import * as ordersRepo from '../../db/rewards/orders-repo.js';
import { audit } from '../../db/audit-repo.js';
import { parseVoucherCsv } from '../../domain/rewards/csv.js';
import { newId } from '../../shared/ids.js';
import { AppError } from '../../shared/errors.js';
import { mustGetReward, type RewardsArea } from './area.js';
import type { StockLevels, VoucherImportResult } from './types.js';

export async function importVouchers(db: Db, area: RewardsArea, rewardId: string, csv: string, actor: string): Promise<VoucherImportResult> {
  const parsed = parseVoucherCsv(csv);
  if (parsed.codes.some((c) => c.length > 200)) throw new AppError('invalid_input', 'A voucher code is longer than 200 characters');
  return runInTransaction(db, async (tx) => {
    const reward = await rewardsRepo.lock(tx, rewardId);
    if (!reward) throw new AppError('not_found', `Reward ${rewardId} not found`);
    if (reward.type !== 'e_voucher') throw new AppError('invalid_input', 'Voucher codes go to e-voucher rewards only');
    const importId = newId();
    let imported = 0;
    for (let i = 0; i < parsed.codes.length; i += 1000) {
      const chunk = parsed.codes.slice(i, i + 1000).map((c) => ({ enc: area.cipher.encrypt(c), hash: area.cipher.hash(c) }));
      imported += await rewardsRepo.insertVouchers(tx, rewardId, importId, chunk);
    }
    const levels = await rewardsRepo.poolLevels(tx, rewardId);
    if (levels.free > reward.lowStockThreshold) await rewardsRepo.clearLowStockAlert(tx, rewardId);
    await audit(tx, actor, 'reward.vouchers_import', `reward:${rewardId}`, {
      importId,
      imported,
      alreadyInPool: parsed.codes.length - imported,
      free: levels.free,
    });
    return {
      imported,
      alreadyInPool: parsed.codes.length - imported,
      duplicatesInFile: parsed.duplicatesInFile,
      emptyLines: parsed.emptyLines,
      free: levels.free,
    };
  });
}

export async function stockLevels(db: Db, rewardId: string): Promise<StockLevels> {
  const reward = await mustGetReward(db, rewardId);
  const levels: StockLevels = {
    rewardId,
    type: reward.type,
    stock: reward.stock,
    lowStockThreshold: reward.lowStockThreshold,
    low: reward.stock !== null && reward.stock <= reward.lowStockThreshold,
    orders: await ordersRepo.countByStatus(db, rewardId),
  };
  if (reward.type === 'e_voucher') levels.vouchers = await rewardsRepo.poolLevels(db, rewardId);
  return levels;
}
