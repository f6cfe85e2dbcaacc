/** The ledger's operations over its plpgsql functions (db/ledger); types in ledger.ts. */
import type { Db } from '../../db/sql.js';
import { isRetryable, isTransaction } from '../../db/sql.js';
import { batched } from '../../db/batched.js';
import * as repo from '../../db/ledger/ledger-repo.js';
import { creditCodeUse } from '../../db/ledger/code-use-credit.js';
import { assertKey, requestHash } from '../../domain/ledger/rules.js';
import type { EarnSource, HistoryEntry, ResolveResult, Transfer, TransferKind } from '../../domain/ledger/types.js';
import { toCheckResult } from './reconcile.js';
import { systemClock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { retrying } from '../../shared/retry.js';
import type { Ledger, LedgerDeps, ResolveOptions } from './ledger.js';
import { assertParticipant, RESOLVED, sentArgs, toTransfer, transferOf, type Sent } from './transfers.js';
import { createLedgerMaintenance } from './maintenance.js';

export function createLedger(deps: LedgerDeps): Ledger {
  const { sql } = deps;
  const clock = deps.clock ?? systemClock;
  const attempts = deps.retryAttempts ?? 8;

  /**
   * In the caller's transaction: one statement, the caller retries the whole transaction. On the
   * pool: deadlocks and serialization failures are retried here, with the same key, never turned
   * into a business outcome.
   */
  function run<T>(db: Db, fn: (db: Db) => Promise<T>): Promise<T> {
    if (isTransaction(db)) return fn(db);
    return retrying(() => fn(db), {
      attempts,
      retryable: isRetryable,
      baseMs: 4,
      onRetry: (err, attempt) => deps.logger?.debug({ err, attempt }, 'ledger: retrying after a deadlock/serialization failure'),
    });
  }

  async function credit(
    db: Db,
    kind: 'earn' | 'pending' | 'adjust',
    input: {
      programId: string;
      participantId: string;
      amount: number;
      key: string;
      source: EarnSource | null;
      campaignId?: string | null | undefined;
      reason: { key: string; params?: Record<string, unknown> | undefined };
      expiresAt?: Date | null | undefined;
      actor?: string | null | undefined;
    },
  ): Promise<Transfer> {
    const args = creditArgs(kind, input);
    const raw = await run(db, (d) => repo.credit(d, args));
    return transferOf(raw, input.key, args)!;
  }

  function creditArgs<K extends repo.CreditArgs['kind']>(kind: K, input: Parameters<typeof credit>[2]): Sent<K> {
    return sentArgs(clock.now(), kind, input, input, null);
  }

  async function debit(
    db: Db,
    kind: 'spend' | 'hold' | 'adjust',
    input: Parameters<typeof sentArgs>[2] & { holdExpiresAt?: Date | null | undefined },
  ): Promise<{ transfer: Transfer } | { available: number }> {
    const args = sentArgs(clock.now(), kind, input, null, kind === 'hold' ? (input.holdExpiresAt ?? null) : null);
    const raw = await run(db, (d) => repo.debit(d, args));
    if (raw.status === 'insufficient') return { available: raw.available as number };
    return { transfer: transferOf(raw, input.key, args)! };
  }

  async function resolve(
    db: Db,
    pendingKey: string,
    action: 'post' | 'void' | 'confirm' | 'drop',
    options: ResolveOptions | undefined,
  ): Promise<ResolveResult> {
    assertKey(pendingKey);
    const raw = await run(db, (d) =>
      repo.resolve(d, {
        pendingKey,
        action,
        actor: options?.actor ?? null,
        reasonKey: options?.reason?.key ?? null,
        reasonParams: options?.reason?.params ?? null,
        now: clock.now(),
      }),
    );
    if (raw.status === 'not_found') return { status: 'not_found' };
    if (raw.status === 'already_resolved') {
      return { status: 'already_resolved', resolution: RESOLVED[raw.resolution as string]!, transfer: toTransfer(raw.transfer) };
    }
    return { status: RESOLVED[action]!, transfer: toTransfer(raw.transfer), original: toTransfer(raw.original) };
  }

  const ledger: Ledger = {
    async earn(db, input) {
      return { status: 'earned', transfer: await credit(db, 'earn', input) };
    },

    async earnCodeUse(db, use, input) {
      const args = creditArgs('earn', input);
      const raw = await batched(db, creditCodeUse, { use, credit: args });
      if (raw === null) return null;
      const availableAfter = typeof raw.available === 'number' ? raw.available : null;
      return { status: 'earned', transfer: transferOf(raw, input.key, args)!, availableAfter };
    },

    async pendingCredit(db, input) {
      return { status: 'pending', transfer: await credit(db, 'pending', input) };
    },

    confirmPending: (db, key, options) => resolve(db, key, 'confirm', options),
    dropPending: (db, key, options) => resolve(db, key, 'drop', options),
    postHold: (db, key, options) => resolve(db, key, 'post', options),
    voidHold: (db, key, options) => resolve(db, key, 'void', options),

    async spend(db, input) {
      const r = await debit(db, 'spend', input);
      return 'transfer' in r ? { status: 'spent', transfer: r.transfer } : { status: 'insufficient', available: r.available };
    },

    async hold(db, input) {
      const r = await debit(db, 'hold', input);
      return 'transfer' in r ? { status: 'held', transfer: r.transfer } : { status: 'insufficient', available: r.available };
    },

    async adjust(db, input) {
      if (!Number.isSafeInteger(input.amount) || input.amount === 0) {
        throw new AppError('invalid_input', 'An adjustment is a non-zero whole number of points');
      }
      if (!input.actor) throw new AppError('invalid_input', 'An adjustment needs the actor who made it');
      if (input.amount > 0) {
        const transfer = await credit(db, 'adjust', { ...input, source: 'adjustment' });
        return { status: 'adjusted', transfer };
      }
      const r = await debit(db, 'adjust', { ...input, amount: -input.amount });
      return 'transfer' in r ? { status: 'adjusted', transfer: r.transfer } : { status: 'insufficient', available: r.available };
    },

    async reverse(db, input) {
      assertKey(input.key);
      assertKey(input.transferKey);
      if (!input.actor) throw new AppError('invalid_input', 'A reversal needs the actor who made it');
      const hash = requestHash(['reverse', input.transferKey]);
      const raw = await run(db, (d) =>
        repo.reverse(d, {
          transferKey: input.transferKey,
          key: input.key,
          hash,
          actor: input.actor,
          reasonKey: input.reason.key,
          reasonParams: input.reason.params ?? null,
          now: clock.now(),
        }),
      );
      switch (raw.status) {
        case 'not_found':
          return { status: 'not_found' };
        case 'not_reversible':
          return { status: 'not_reversible', kind: raw.kind as TransferKind };
        case 'insufficient':
          return { status: 'insufficient', available: raw.available as number };
        case 'already_reversed':
          return { status: 'already_reversed', transfer: toTransfer(raw.transfer) };
        default:
          return { status: 'reversed', transfer: transferOf(raw, input.key)! };
      }
    },

    ...createLedgerMaintenance({ ...deps, clock }, run),

    async balance(db, programId, participantId) {
      assertParticipant({ programId, participantId });
      const row = await repo.balance(db, programId, participantId);
      if (!row) return { available: 0, held: 0, pending: 0, lifetimeEarned: 0, expiringSoon: null };
      return {
        available: row.posted - row.held,
        held: row.held,
        pending: row.pending,
        lifetimeEarned: row.lifetimeEarned,
        expiringSoon:
          row.nextExpiryAt && row.nextExpiryAmount ? { amount: row.nextExpiryAmount, at: new Date(row.nextExpiryAt) } : null,
      };
    },

    async history(db, programId, participantId, options) {
      assertParticipant({ programId, participantId });
      const limit = Math.min(Math.max(options?.limit ?? 20, 1), 500);
      const rows = await repo.history(db, programId, participantId, limit, options?.before ?? null);
      return rows.map(
        (r): HistoryEntry => ({
          transferId: r.transferId,
          key: r.key,
          kind: r.kind as TransferKind,
          amount: r.amount,
          pendingAmount: r.pendingAmount,
          at: r.at,
          source: r.source as EarnSource | null,
          campaignId: r.campaignId,
          reason: r.reasonParams == null ? { key: r.reasonKey } : { key: r.reasonKey, params: JSON.parse(r.reasonParams) },
          expiresAt: r.expiresAt,
        }),
      );
    },

    async check(db) {
      return toCheckResult(await repo.check(db ?? sql));
    },
  };
  return ledger;
}
