/**
 * Codes: batch generation and import (stored only as keyed hashes), batch statistics, and
 * redemption with one outcome per code, guess lockouts and exactly-once crediting.
 *
 * Exactly once: a code's uses are taken with a conditional UPDATE on its row, so concurrent
 * redeemers of a single-use code queue on that row and only the first finds a use left; the ledger
 * key `code:<id>` (multi-use: `code:<id>:<participant>`) is the second line of defence. Each code
 * of a message runs in its own savepoint: a refusal after the use was taken (cap, budget) rolls
 * back the use too.
 */
import { randomBytes } from 'node:crypto';
import type postgres from 'postgres';
import type { Db, Sql } from '../../db/sql.js';
import { isUniqueViolation } from '../../db/sql.js';
import type { Clock } from '../../shared/clock.js';
import { systemClock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import {
  bodiesFromBytes,
  checkCode,
  formatCode,
  isValidCanonical,
  normalizeCode,
} from '../../domain/codes/code-format.js';
import { allNames, campaignGate, pointsWithMultiplier, type Earner, type Localized } from '../../domain/campaigns/campaign.js';
import type { CodeBatchInput } from '../../domain/campaigns/rules-schema.js';
import * as repo from '../../db/codes/repo.js';
import { batched } from '../../db/batched.js';
import { getCampaign } from '../../db/campaigns/repo.js';
import type { Ledger } from '../ledger/index.js';
import type { CampaignsService } from '../campaigns/index.js';
import type { CodeHasher } from './code-secret.js';
import { createCampaignCache } from './campaign-cache.js';
import { audit } from '../../db/audit-repo.js';

export { loadCodeSecret, createCodeHasher } from './code-secret.js';

export type RedeemOutcome =
  | { status: 'credited'; code: string; points: number; campaignId: string; campaign: { name: string; names: Localized }; balance: number }
  | { status: 'already_used'; code: string; at: Date | null; byYou: boolean }
  | { status: 'mistyped'; code: string }
  | { status: 'unknown'; code: string }
  | { status: 'expired'; code: string; at: Date }
  | { status: 'not_for_role'; code: string }
  /** The campaign is limited to stores or regions the participant is not in. */
  | { status: 'not_in_audience'; code: string }
  | { status: 'not_started'; code: string; startsAt: Date; campaign: { name: string; names: Localized } }
  | { status: 'campaign_over'; code: string; endedAt: Date }
  | { status: 'daily_cap'; code: string; cap: number }
  | { status: 'campaign_cap'; code: string; cap: number }
  | { status: 'budget_exhausted'; code: string }
  | { status: 'locked'; code: string; until: Date };

export interface RedeemInput {
  participant: Earner;
  /** The chat identity that sent the codes: guesses count against it as well as the participant. */
  identity: { channel: string; externalId: string };
  /** Raw texts as typed; each is normalised and checked. */
  codes: string[];
}

export interface GuessPolicy {
  /** Unknown codes allowed in `windowMs` before a lockout. */
  maxGuesses: number;
  windowMs: number;
  lockMs: number;
  /** A new lockout within this long of the previous one's end doubles the time. */
  resetAfterMs: number;
  maxLevel: number;
}

export const DEFAULT_GUESS_POLICY: GuessPolicy = {
  maxGuesses: 5,
  windowMs: 10 * 60_000,
  lockMs: 15 * 60_000,
  resetAfterMs: 24 * 3600_000,
  maxLevel: 6,
};

export interface BatchCreated {
  batch: repo.BatchRow;
  /** Formatted (`K7QM-3XW9-T`): shown only in this answer. */
  codes: string[];
}

export interface CodesService {
  createBatch(campaignId: string, input: CodeBatchInput, actor: string): Promise<BatchCreated>;
  importBatch(
    campaignId: string,
    input: Omit<CodeBatchInput, 'count' | 'prefix' | 'length'> & { codes: string[] },
    actor: string,
  ): Promise<{ batch: repo.BatchRow; imported: number; duplicates: string[]; invalid: string[] }>;
  batch(id: string): Promise<repo.BatchRow | undefined>;
  batches(campaignId: string): Promise<repo.BatchRow[]>;
  stats(batchId: string): Promise<{ total: number; used: number; unused: number; exhausted: number; redemptions: number; points: number }>;
  usedCodes(batchId: string, options?: { limit?: number; after?: number }): ReturnType<typeof repo.usedCodes>;
  /** Redeems on the caller's transaction (the dialog's), or in one of its own. */
  redeem(db: Db | undefined, input: RedeemInput): Promise<RedeemOutcome[]>;
  lockouts(options?: { includeExpired?: boolean }): ReturnType<typeof repo.listLockouts>;
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

/** A refusal inside a code's savepoint: thrown to roll the savepoint back, caught right outside. */
class Refusal extends Error {
  constructor(readonly outcome: RedeemOutcome) {
    super(outcome.status);
  }
}

const DEFAULT_LENGTH = 8;

export function createCodes(deps: CodesDeps): CodesService {
  const { sql, ledger, campaigns, hash } = deps;
  const clock = deps.clock ?? systemClock;
  const policy = { ...DEFAULT_GUESS_POLICY, ...deps.guessPolicy };
  const campaignCache = createCampaignCache();

  async function campaignOr404(db: Db, id: string) {
    const c = await getCampaign(db, id);
    if (!c) throw new AppError('not_found', 'No such campaign');
    if (c.status === 'ended') throw new AppError('conflict', 'The campaign has ended');
    return c;
  }

  /** `lockedUntil` non-null: the message is refused as a whole from here on. */
  async function redeemOne(
    tx: postgres.TransactionSql,
    input: RedeemInput,
    raw: string,
    subjects: string[],
    now: Date,
  ): Promise<RedeemOutcome> {
    const canonical = normalizeCode(raw) ?? raw.toUpperCase();
    const shown = isValidCanonical(canonical) ? formatCode(canonical) : raw.trim();
    const { lockedUntil, found, campaignVersion } = await batched(tx, repo.lookup, { hash: hash(canonical), subjects, now });
    if (lockedUntil) return { status: 'locked', code: shown, until: lockedUntil };
    const campaign = found && campaignVersion !== null ? await campaignCache.get(tx, found.campaignId, campaignVersion) : undefined;
    if (!found || !campaign) {
      return checkCode(canonical).status === 'mistyped' ? { status: 'mistyped', code: shown } : { status: 'unknown', code: shown };
    }
    const p = input.participant;
    if (found.expiresAt && found.expiresAt <= now) return { status: 'expired', code: shown, at: found.expiresAt };
    if (found.audienceRole && found.audienceRole !== p.role) return { status: 'not_for_role', code: shown };
    const gate = campaignGate(campaign, p, now);
    if (gate.status === 'not_started') {
      return { status: 'not_started', code: shown, startsAt: gate.startsAt, campaign: { name: campaign.name, names: campaign.names } };
    }
    if (gate.status === 'over') return { status: 'campaign_over', code: shown, endedAt: gate.endedAt };
    if (gate.status === 'not_for_role') return { status: 'not_for_role', code: shown };
    if (gate.status === 'not_in_audience') return { status: 'not_in_audience', code: shown };

    if (found.maxUses > 1) {
      const mine = await repo.redemptionOf(tx, found.codeId, p.id);
      if (mine) return { status: 'already_used', code: shown, at: mine, byYou: true };
    }
    const points = pointsWithMultiplier(found.points, campaign.multipliers, now);
    const limited = campaign.capPerDay !== null || campaign.capPerCampaign !== null || campaign.budget !== null;

    const record = { codeId: found.codeId, participantId: p.id, campaignId: campaign.id, points, channel: input.identity.channel, at: now };
    const earnInput = {
      programId: p.programId,
      participantId: p.id,
      amount: points,
      source: 'code' as const,
      key: found.maxUses > 1 ? `code:${found.codeId}:${p.id}` : `code:${found.codeId}`,
      campaignId: campaign.id,
      // Every language's name: the history is read later, in whatever language the reader has then.
      reason: { key: 'codes:reason_code', params: { name: allNames(campaign) } },
    };
    const credited = (balance: { available: number }): RedeemOutcome => ({
      status: 'credited' as const,
      code: shown,
      points,
      campaignId: campaign.id,
      campaign: { name: campaign.name, names: campaign.names },
      balance: balance.available,
    });

    if (!limited && found.maxUses <= 1) {
      // Nothing can refuse after the take: the take, the redemption row and the credit go in one
      // statement (the credit only for a use it took), which also answers the new balance.
      const earn = ledger.earnCall(earnInput);
      const outcome = await batched(tx, repo.takeAndCredit, { ...record, credit: earn.call });
      if (outcome === null) {
        const again = await repo.findByHash(tx, hash(canonical));
        return { status: 'already_used', code: shown, at: again?.lastUsedAt ?? null, byYou: false };
      }
      const { availableAfter } = earn.read(outcome);
      return credited(availableAfter === null ? await ledger.balance(p.programId, p.id, tx) : { available: availableAfter });
    }

    const award = async (db: postgres.TransactionSql): Promise<RedeemOutcome> => {
      let recorded: boolean;
      try {
        recorded = await repo.takeAndRecord(db, record);
      } catch (error) {
        // The same participant redeeming a multi-use code from two chats at once: the second
        // waits on the (code, participant) unique index and finds the first's redemption.
        if (!isUniqueViolation(error)) throw error;
        throw new Refusal({ status: 'already_used', code: shown, at: now, byYou: true });
      }
      if (!recorded) {
        const again = await repo.findByHash(db, hash(canonical));
        throw new Refusal({ status: 'already_used', code: shown, at: again?.lastUsedAt ?? null, byYou: false });
      }
      if (limited) {
        const gateAward = await campaigns.reserveAward(db, campaign, p.id, points);
        if (gateAward.status !== 'ok') {
          throw new Refusal(
            gateAward.status === 'budget_exhausted'
              ? { status: 'budget_exhausted', code: shown }
              : { status: gateAward.status, code: shown, cap: gateAward.cap },
          );
        }
      }
      // Pipelined on the transaction's connection: the balance is read after the earn, in order.
      const [, balance] = await Promise.all([ledger.earn(earnInput, db), ledger.balance(p.programId, p.id, db)]);
      return credited(balance);
    };

    try {
      // Caps and budget can refuse after the use was taken, and a multi-use code can meet a twin
      // redemption of the same participant on the unique index: a savepoint gives the use back
      // (and keeps the transaction usable).
      return await tx.savepoint((sp) => award(sp));
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      if (error.outcome.status === 'budget_exhausted') await campaigns.budgetExhausted(tx, campaign);
      return error.outcome;
    }
  }

  async function redeemAll(tx: postgres.TransactionSql, input: RedeemInput): Promise<RedeemOutcome[]> {
    const now = clock.now();
    const subjects = [`p:${input.participant.id}`, `i:${input.identity.channel}:${input.identity.externalId}`];
    let lockedUntil: Date | undefined;
    const out: RedeemOutcome[] = [];
    for (const raw of input.codes) {
      if (lockedUntil) {
        out.push({ status: 'locked', code: raw.trim(), until: lockedUntil });
        continue;
      }
      const outcome = await redeemOne(tx, input, raw, subjects, now);
      out.push(outcome);
      if (outcome.status === 'locked') lockedUntil = outcome.until;
      if (outcome.status !== 'unknown') continue;
      // Only unknown codes count: a mistyped one (wrong check symbol) is a typo, not a guess.
      await repo.recordGuess(tx, subjects, now);
      for (const subject of subjects) {
        const n = await repo.guessesSince(tx, subject, new Date(now.getTime() - policy.windowMs));
        if (n < policy.maxGuesses) continue;
        const until = await repo.lock(tx, {
          subject,
          participantId: input.participant.id,
          now,
          baseMs: policy.lockMs,
          resetAfterMs: policy.resetAfterMs,
          maxLevel: policy.maxLevel,
        });
        if (!lockedUntil || until > lockedUntil) lockedUntil = until;
      }
      if (lockedUntil) {
        deps.logger?.info({ participantId: input.participant.id, until: lockedUntil }, 'code guessing lockout');
        // The lockout that starts with this guess is said right after it.
        out.push({ status: 'locked', code: '', until: lockedUntil });
      }
    }
    return out;
  }

  async function insertCodes(
    tx: postgres.TransactionSql,
    batchId: string,
    usesPerCode: number,
    canonicals: string[],
  ): Promise<{ inserted: string[]; rejected: string[] }> {
    const hexes = canonicals.map((c) => hash(c).toString('hex'));
    const missing = await repo.copyHashes(tx, batchId, usesPerCode, hexes);
    if (!missing.size) return { inserted: canonicals, rejected: [] };
    const inserted: string[] = [];
    const rejected: string[] = [];
    canonicals.forEach((c, i) => (missing.has(hexes[i]!) ? rejected : inserted).push(c));
    return { inserted, rejected };
  }

  return {
    async createBatch(campaignId, input, actor) {
      const length = input.length ?? DEFAULT_LENGTH;
      const prefix = input.prefix ?? '';
      return sql.begin(async (tx) => {
        const c = await campaignOr404(tx, campaignId);
        const batch = await repo.insertBatch(tx, {
          programId: c.programId,
          campaignId,
          source: 'generated',
          label: input.label ?? null,
          points: input.points,
          prefix,
          length,
          expiresAt: input.expiresAt ?? null,
          usesPerCode: input.usesPerCode ?? 1,
          audienceRole: input.audienceRole ?? null,
          createdBy: actor,
        });
        const all: string[] = [];
        let need = input.count;
        // Collisions (within the batch, or with any earlier code) are replaced until `count` are in.
        for (let round = 0; need > 0; round++) {
          if (round > 20) throw new AppError('conflict', 'Could not generate unique codes: use a longer length or another prefix');
          const fresh = [...new Set(bodiesFromBytes(randomBytes(need * length), need, length, prefix))];
          const { inserted } = await insertCodes(tx, batch.id, batch.usesPerCode, fresh);
          for (const code of inserted) all.push(code);
          need = input.count - all.length;
        }
        await repo.setBatchCount(tx, batch.id, all.length);
        await audit(tx, actor, 'code_batch.create', `code_batch:${batch.id}`, { count: all.length, points: input.points, campaignId });
        return { batch: { ...batch, codeCount: all.length }, codes: all.map(formatCode) };
      });
    },

    async importBatch(campaignId, input, actor) {
      return sql.begin(async (tx) => {
        const c = await campaignOr404(tx, campaignId);
        const invalid: string[] = [];
        const unique = new Map<string, string>();
        const duplicates: string[] = [];
        for (const raw of input.codes) {
          const canonical = normalizeCode(raw);
          if (!canonical || canonical.length < 4 || canonical.length > 64) invalid.push(raw);
          else if (unique.has(canonical)) duplicates.push(raw);
          else unique.set(canonical, raw);
        }
        const batch = await repo.insertBatch(tx, {
          programId: c.programId,
          campaignId,
          source: 'imported',
          label: input.label ?? null,
          points: input.points,
          prefix: '',
          length: 0,
          expiresAt: input.expiresAt ?? null,
          usesPerCode: input.usesPerCode ?? 1,
          audienceRole: input.audienceRole ?? null,
          createdBy: actor,
        });
        const { inserted, rejected } = await insertCodes(tx, batch.id, batch.usesPerCode, [...unique.keys()]);
        for (const r of rejected) duplicates.push(unique.get(r)!);
        await repo.setBatchCount(tx, batch.id, inserted.length);
        await audit(tx, actor, 'code_batch.import', `code_batch:${batch.id}`, {
          imported: inserted.length,
          duplicates: duplicates.length,
          invalid: invalid.length,
        });
        return { batch: { ...batch, codeCount: inserted.length }, imported: inserted.length, duplicates, invalid };
      });
    },

    batch: (id) => repo.getBatch(sql, id),
    batches: (campaignId) => repo.listBatches(sql, campaignId),

    async stats(batchId) {
      const s = await repo.batchStats(sql, batchId);
      return { ...s, unused: s.total - s.used };
    },

    usedCodes: (batchId, options) => repo.usedCodes(sql, batchId, Math.min(options?.limit ?? 1000, 10_000), options?.after ?? 0),

    async redeem(db, input) {
      if (db && 'savepoint' in db) return redeemAll(db as postgres.TransactionSql, input);
      return sql.begin((tx) => redeemAll(tx, input));
    },

    lockouts: (options) => repo.listLockouts(sql, clock.now(), options?.includeExpired ?? false),

    async unlock(subject, actor) {
      const rows = await sql`update code_lockouts set until = ${clock.now()} where subject = ${subject} and until > ${clock.now()} returning subject`;
      if (rows.length) await audit(sql, actor, 'code_lockout.clear', subject);
      return rows.length > 0;
    },
  };
}
