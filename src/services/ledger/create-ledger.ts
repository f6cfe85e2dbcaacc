import type { Db } from '../../db/sql.js';
import { isRetryable } from '../../db/sql.js';
import * as repo from '../../db/ledger/ledger-repo.js';
import type { RawOutcome } from '../../db/ledger/ledger-repo.js';
import { assertId, assertKey, assertPoints, requestHash } from '../../domain/ledger/rules.js';
import type {
  EarnSource,
  HistoryEntry,
  LedgerProblem,
  LedgerProblemKind,
  ResolveResult,
  Transfer,
  TransferKind,
} from '../../domain/ledger/types.js';
import { systemClock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { Ledger, LedgerDeps, ResolveOptions } from './index.js';

type RawTransfer = Omit<Transfer, 'createdAt' | 'expiresAt' | 'holdExpiresAt' | 'reason'> & {
  createdAt: string;
  expiresAt: string | null;
  holdExpiresAt: string | null;
  reasonKey: string;
  reasonParams: Record<string, unknown> | null;
};

const toDate = (v: string | null): Date | null => (v == null ? null : new Date(v));

function toTransfer(raw: unknown): Transfer {
  const t = raw as RawTransfer;
  return {
    id: t.id,
    key: t.key,
    kind: t.kind,
    programId: t.programId,
    participantId: t.participantId,
    amount: t.amount,
    source: t.source,
    campaignId: t.campaignId,
    reason: t.reasonParams == null ? { key: t.reasonKey } : { key: t.reasonKey, params: t.reasonParams },
    actor: t.actor,
    expiresAt: toDate(t.expiresAt),
    holdExpiresAt: toDate(t.holdExpiresAt),
    relatedKey: t.relatedKey,
    createdAt: new Date(t.createdAt),
    replayed: t.replayed,
  };
}

/** What a credit or debit sends: the arguments of either ledger function (each ignores the other's). */
type Sent<K extends repo.CreditArgs['kind'] | repo.DebitArgs['kind'] = repo.CreditArgs['kind'] | repo.DebitArgs['kind']> =
  Omit<repo.CreditArgs, 'kind'> & Omit<repo.DebitArgs, 'kind'> & { kind: K };

/**
 * ok → the new transfer; replay → the stored one; mismatch → the key was reused for something
 * else. A credit or debit that went through answers only with what its caller does not know (the
 * id and, for a credit, the lot's expiry): the rest is what the caller sent.
 */
function transferOf(raw: RawOutcome, key: string, sent?: Sent): Transfer | undefined {
  if (raw.status === 'mismatch') {
    throw new AppError('idempotency_mismatch', `The key ${key} was already used for a different operation`, {
      details: { key, kind: raw.kind },
    });
  }
  if (raw.status === 'ok' && sent) {
    return {
      id: raw.id as number,
      key: sent.key,
      kind: sent.kind,
      programId: sent.programId,
      participantId: sent.participantId,
      amount: sent.amount,
      // a credit's source is an EarnSource checked by the caller's types; the repo carries it as text
      source: sent.source as EarnSource | null,
      campaignId: sent.campaignId,
      reason: sent.reasonParams == null ? { key: sent.reasonKey } : { key: sent.reasonKey, params: sent.reasonParams },
      actor: sent.actor,
      expiresAt: toDate((raw.expiresAt ?? null) as string | null),
      holdExpiresAt: sent.holdExpiresAt,
      relatedKey: null,
      createdAt: sent.now,
      replayed: false,
    };
  }
  if (raw.status === 'ok' || raw.status === 'replay') return toTransfer(raw.transfer);
  return undefined;
}

function assertParticipant(input: { programId: string; participantId: string; campaignId?: string | null | undefined }): void {
  assertId(input.programId, 'programId');
  assertId(input.participantId, 'participantId');
  assertId(input.campaignId, 'campaignId');
}

const RESOLVED: Record<string, 'posted' | 'voided' | 'confirmed' | 'dropped'> = {
  post: 'posted',
  void: 'voided',
  confirm: 'confirmed',
  drop: 'dropped',
};

export function createLedger(deps: LedgerDeps): Ledger {
  const { sql } = deps;
  const clock = deps.clock ?? systemClock;
  const attempts = deps.retryAttempts ?? 8;

  /**
   * In the caller's transaction: one statement, the caller retries the whole transaction. On the
   * pool: deadlocks and serialization failures are retried here, with the same key, never turned
   * into a business outcome.
   */
  async function run<T>(db: Db | undefined, fn: (db: Db) => Promise<T>): Promise<T> {
    if (db) return fn(db);
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(sql);
      } catch (error) {
        if (!isRetryable(error) || attempt >= attempts) throw error;
        deps.logger?.debug({ err: error, attempt }, 'ledger: retrying after a deadlock/serialization failure');
        await new Promise((r) => setTimeout(r, Math.random() * 4 * 2 ** attempt));
      }
    }
  }

  async function credit(
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
    db: Db | undefined,
  ): Promise<Transfer> {
    const args = creditArgs(kind, input);
    const raw = await run(db, (d) => repo.credit(d, args));
    return transferOf(raw, input.key, args)!;
  }

  /**
   * What a credit or a debit sends, validated, with the fingerprint of what its key stands for. One
   * object literal, built once per transfer (this runs on every earn and spend, so no spreads): a
   * credit's source and expiry, a hold's timeout, each null where it does not apply.
   */
  function sentArgs<K extends Sent['kind']>(
    kind: K,
    input: {
      programId: string;
      participantId: string;
      amount: number;
      key: string;
      campaignId?: string | null | undefined;
      reason: { key: string; params?: Record<string, unknown> | undefined };
      actor?: string | null | undefined;
    },
    credit: { source: EarnSource | null; expiresAt?: Date | null | undefined } | null,
    holdExpiresAt: Date | null,
  ): Sent<K> {
    assertPoints(input.amount);
    assertKey(input.key);
    assertParticipant(input);
    const source = credit?.source ?? null;
    const expiresAt = credit?.expiresAt;
    return {
      kind,
      programId: input.programId,
      participantId: input.participantId,
      amount: input.amount,
      key: input.key,
      hash: requestHash([kind, input.programId, input.participantId, input.amount, source, input.campaignId]),
      source,
      campaignId: input.campaignId ?? null,
      reasonKey: input.reason.key,
      reasonParams: input.reason.params ?? null,
      // omitted: the program's validity; null: never
      expiryMode: expiresAt === undefined ? 'default' : expiresAt === null ? 'never' : 'at',
      expiresAt: expiresAt ?? null,
      holdExpiresAt,
      actor: input.actor ?? null,
      now: clock.now(),
    };
  }

  function creditArgs<K extends repo.CreditArgs['kind']>(kind: K, input: Parameters<typeof credit>[1]): Sent<K> {
    return sentArgs(kind, input, input, null);
  }

  async function debit(
    kind: 'spend' | 'hold' | 'adjust',
    input: Parameters<typeof sentArgs>[1] & { holdExpiresAt?: Date | null | undefined },
    db: Db | undefined,
  ): Promise<{ transfer: Transfer } | { available: number }> {
    const args = sentArgs(kind, input, null, kind === 'hold' ? (input.holdExpiresAt ?? null) : null);
    const raw = await run(db, (d) => repo.debit(d, args));
    if (raw.status === 'insufficient') return { available: raw.available as number };
    return { transfer: transferOf(raw, input.key, args)! };
  }

  async function resolve(
    pendingKey: string,
    action: 'post' | 'void' | 'confirm' | 'drop',
    options: ResolveOptions | undefined,
    db: Db | undefined,
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
    async earn(input, db) {
      return { status: 'earned', transfer: await credit('earn', input, db) };
    },

    earnCall(input) {
      const args = creditArgs('earn', input);
      return {
        call: repo.creditCall(args),
        read: (text) => {
          const raw = repo.parseOutcome(text);
          const availableAfter = typeof raw.available === 'number' ? raw.available : null;
          return { status: 'earned', transfer: transferOf(raw, input.key, args)!, availableAfter };
        },
      };
    },

    async pendingCredit(input, db) {
      return { status: 'pending', transfer: await credit('pending', input, db) };
    },

    confirmPending: (key, options, db) => resolve(key, 'confirm', options, db),
    dropPending: (key, options, db) => resolve(key, 'drop', options, db),
    postHold: (key, options, db) => resolve(key, 'post', options, db),
    voidHold: (key, options, db) => resolve(key, 'void', options, db),

    async spend(input, db) {
      const r = await debit('spend', input, db);
      return 'transfer' in r ? { status: 'spent', transfer: r.transfer } : { status: 'insufficient', available: r.available };
    },

    async hold(input, db) {
      const r = await debit('hold', input, db);
      return 'transfer' in r ? { status: 'held', transfer: r.transfer } : { status: 'insufficient', available: r.available };
    },

    async adjust(input, db) {
      if (!Number.isSafeInteger(input.amount) || input.amount === 0) {
        throw new AppError('invalid_input', 'An adjustment is a non-zero whole number of points');
      }
      if (!input.actor) throw new AppError('invalid_input', 'An adjustment needs the actor who made it');
      if (input.amount > 0) {
        const transfer = await credit('adjust', { ...input, source: 'adjustment' }, db);
        return { status: 'adjusted', transfer };
      }
      const r = await debit('adjust', { ...input, amount: -input.amount }, db);
      return 'transfer' in r ? { status: 'adjusted', transfer: r.transfer } : { status: 'insufficient', available: r.available };
    },

    async reverse(input, db) {
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

    async expireDueLots(now = clock.now()) {
      let count = 0;
      let points = 0;
      for (;;) {
        const lots = await repo.dueLots(sql, now, 200);
        for (const lot of lots) {
          const raw = await run(undefined, (d) => repo.expireLot(d, lot, now));
          if (raw.status === 'expired') {
            count += 1;
            points += (raw.transfer as { amount: number }).amount;
          }
        }
        if (lots.length < 200) break;
      }
      if (count) deps.logger?.info({ lots: count, points }, 'ledger: expired due lots');
      return { count, points };
    },

    async voidExpiredHolds(now = clock.now()) {
      let count = 0;
      let points = 0;
      for (;;) {
        const keys = await repo.expiredHoldKeys(sql, now, 200);
        for (const key of keys) {
          const r = await run(undefined, (d) =>
            repo.resolve(d, {
              pendingKey: key,
              action: 'void',
              actor: 'system',
              reasonKey: 'ledger:reason.hold_expired',
              reasonParams: null,
              now,
            }),
          );
          if (r.status === 'ok' && !(r.transfer as { replayed: boolean }).replayed) {
            count += 1;
            points += (r.transfer as { amount: number }).amount;
          }
        }
        if (keys.length < 200) break;
      }
      if (count) deps.logger?.info({ holds: count, points }, 'ledger: voided expired holds');
      return { count, points };
    },

    async balance(programId, participantId, db) {
      assertParticipant({ programId, participantId });
      const row = await repo.balance(db ?? sql, programId, participantId);
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

    async history(programId, participantId, options, db) {
      assertParticipant({ programId, participantId });
      const limit = Math.min(Math.max(options?.limit ?? 20, 1), 500);
      const rows = await repo.history(db ?? sql, programId, participantId, limit, options?.before ?? null);
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
      const rows = await repo.check(db ?? sql);
      const problems = rows.map(
        (r): LedgerProblem => ({
          kind: r.kind as LedgerProblemKind,
          accountId: r.accountId,
          transferId: r.transferId,
          programId: r.programId,
          participantId: r.participantId,
          expected: r.expected,
          actual: r.actual,
        }),
      );
      return { ok: problems.length === 0, problems };
    },
  };
  return ledger;
}
