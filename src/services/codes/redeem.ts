/**
 * Redeeming the codes of one message: one outcome per code, guesses counted toward a lockout, each
 * credit exactly once. A code's uses are taken with a conditional UPDATE on its row, so concurrent
 * redeemers of a single-use code queue on that row and only the first finds a use left; the ledger
 * key `code:<id>` (multi-use: `code:<id>:<participant>`) is the second line of defence. A code
 * that can be refused after its use was taken (caps, budget) runs in a savepoint, so the refusal
 * gives the use back.
 */
import type postgres from 'postgres';
import type { Db, Sql } from '../../db/sql.js';
import { isUniqueViolation } from '../../db/sql.js';
import { batched } from '../../db/batched.js';
import * as repo from '../../db/codes/repo.js';
import * as lockouts from '../../db/codes/lockouts-repo.js';
import { checkCode, formatCode, isValidCanonical, normalizeCode } from '../../domain/codes/code-format.js';
import { allNames, campaignGate, pointsWithMultiplier } from '../../domain/campaigns/campaign.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type { Ledger } from '../ledger/index.js';
import type { CampaignsService } from '../campaigns/index.js';
import type { CodeHasher } from './code-secret.js';
import { createCampaignCache } from './campaign-cache.js';
import type { GuessPolicy, RedeemInput, RedeemOutcome } from './types.js';

export interface RedeemDeps {
  sql: Sql;
  ledger: Ledger;
  campaigns: Pick<CampaignsService, 'reserveAward' | 'budgetExhausted'>;
  hash: CodeHasher;
  clock: Clock;
  logger?: Logger | undefined;
  policy: GuessPolicy;
}

/** A refusal inside a code's savepoint: thrown to roll the savepoint back, caught right outside. */
class Refusal extends Error {
  constructor(readonly outcome: RedeemOutcome) {
    super(outcome.status);
  }
}

/**
 * Who a guess counts against: the participant and the chat, and also the phone and the network
 * address, so new accounts on one number or one address do not get fresh guesses.
 */
export function guessSubjects(input: RedeemInput): string[] {
  const subjects = [`p:${input.participant.id}`, `i:${input.identity.channel}:${input.identity.externalId}`];
  const digits = input.phone?.replace(/\D/g, '');
  if (digits) subjects.push(`ph:${digits}`);
  if (input.network) subjects.push(`n:${input.network}`);
  return subjects;
}

export function createRedeem(deps: RedeemDeps): (db: Db | undefined, input: RedeemInput) => Promise<RedeemOutcome[]> {
  const { sql, ledger, campaigns, hash, clock, policy } = deps;
  const campaignCache = createCampaignCache();

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
      // A wrong check symbol is a typo of one of Punkto's codes, unless pre-printed (imported)
      // codes of this length exist: they carry no check symbol, so it may be a guess at one.
      const typo =
        checkCode(canonical).status === 'mistyped' && !(await repo.importedLengthExists(tx, input.participant.programId, canonical.length));
      return typo ? { status: 'mistyped', code: shown } : { status: 'unknown', code: shown };
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
      // Nothing can refuse after the take: the ledger takes the use and credits it in one statement
      // (the credit only for a use it took), which also answers the new balance.
      const earned = await ledger.earnCodeUse(tx, record, earnInput);
      if (earned === null) {
        const again = await repo.findByHash(tx, hash(canonical));
        return { status: 'already_used', code: shown, at: again?.lastUsedAt ?? null, byYou: false };
      }
      return credited(earned.availableAfter === null ? await ledger.balance(tx, p.programId, p.id) : { available: earned.availableAfter });
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
      const [, balance] = await Promise.all([ledger.earn(db, earnInput), ledger.balance(db, p.programId, p.id)]);
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
    const subjects = guessSubjects(input);
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
      await lockouts.recordGuess(tx, subjects, now);
      for (const subject of subjects) {
        const n = await lockouts.guessesSince(tx, subject, new Date(now.getTime() - policy.windowMs));
        if (n < policy.maxGuesses) continue;
        const until = await lockouts.lock(tx, {
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

  return (db, input) => {
    if (db && 'savepoint' in db) return redeemAll(db as postgres.TransactionSql, input);
    return sql.begin((tx) => redeemAll(tx, input));
  };
}
