/**
 * Codes: batch generation and import (stored only as keyed hashes: batches.ts), batch statistics,
 * and redemption with one outcome per code, guess lockouts and exactly-once crediting (redeem.ts).
 */
import type { Db, Sql } from '../../db/sql.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { CodeBatchInput } from '../../domain/campaigns/rules-schema.js';
import * as repo from '../../db/codes/repo.js';
import * as lockoutsRepo from '../../db/codes/lockouts-repo.js';
import { audit } from '../../db/audit-repo.js';
import { normalizeCode } from '../../domain/codes/code-format.js';
import type { Ledger } from '../ledger/index.js';
import type { CampaignsService } from '../campaigns/index.js';
import type { CodeHasher } from './code-secret.js';
import { createBatches, IMPORTED_MAX_LENGTH, IMPORTED_MIN_LENGTH, type BatchCreated, type BatchImported, type ImportInput } from './batches.js';
import { createRedeem } from './redeem.js';
import { DEFAULT_GUESS_POLICY, type GuessPolicy, type RedeemInput, type RedeemOutcome } from './types.js';

export { loadCodeSecret, createCodeHasher } from './code-secret.js';
export type { BatchCreated, BatchImported, ImportInput } from './batches.js';
export { DEFAULT_GUESS_POLICY, type GuessPolicy, type RedeemInput, type RedeemOutcome } from './types.js';

export interface CodesService {
  createBatch(campaignId: string, input: CodeBatchInput, actor: string): Promise<BatchCreated>;
  importBatch(
    campaignId: string,
    input: ImportInput,
    actor: string,
  ): Promise<BatchImported>;
  batch(id: string): Promise<repo.BatchRow | undefined>;
  batches(campaignId: string): Promise<repo.BatchRow[]>;
  stats(batchId: string): Promise<{ total: number; used: number; unused: number; exhausted: number; redemptions: number; points: number }>;
  usedCodes(batchId: string, options?: { limit?: number; after?: number }): ReturnType<typeof repo.usedCodes>;
  /** Redeems on the caller's transaction (the dialog's), or in one of its own. */
  redeem(db: Db | undefined, input: RedeemInput): Promise<RedeemOutcome[]>;
  /**
   * Whether a text that does not look like one of Punkto's codes is an existing code all the same
   * (pre-printed codes have any shape), so the chat can redeem it from anywhere.
   */
  isExistingCode(db: Db, text: string): Promise<boolean>;
  lockouts(options?: { includeExpired?: boolean }): ReturnType<typeof lockoutsRepo.listLockouts>;
  /** Clears a lockout (manager action). */
  unlock(subject: string, actor: string): Promise<boolean>;
}

export interface CodesDeps {
  sql: Sql;
  ledger: Ledger;
  campaigns: CampaignsService;
  hash: CodeHasher;
  clock?: Clock;
  logger?: Logger;
  guessPolicy?: Partial<GuessPolicy>;
}

export function createCodes(deps: CodesDeps): CodesService {
  const { sql } = deps;
  const clock = deps.clock ?? systemClock;
  const batches = createBatches(deps);
  const redeem = createRedeem({ ...deps, clock, policy: { ...DEFAULT_GUESS_POLICY, ...deps.guessPolicy } });

  return {
    ...batches,
    batch: (id) => repo.getBatch(sql, id),
    batches: (campaignId) => repo.listBatches(sql, campaignId),

    async stats(batchId) {
      const s = await repo.batchStats(sql, batchId);
      return { ...s, unused: s.total - s.used };
    },

    usedCodes: (batchId, options) => repo.usedCodes(sql, batchId, Math.min(options?.limit ?? 1000, 10_000), options?.after ?? 0),
    redeem,
    async isExistingCode(db, text) {
      const canonical = normalizeCode(text);
      if (!canonical || canonical.length < IMPORTED_MIN_LENGTH || canonical.length > IMPORTED_MAX_LENGTH) return false;
      return (await repo.findByHash(db, deps.hash(canonical))) !== undefined;
    },
    lockouts: (options) => lockoutsRepo.listLockouts(sql, clock.now(), options?.includeExpired ?? false),

    async unlock(subject, actor) {
      const cleared = await lockoutsRepo.clearLockout(sql, subject, clock.now());
      if (cleared) await audit(sql, actor, 'code_lockout.clear', subject);
      return cleared;
    },
  };
}
