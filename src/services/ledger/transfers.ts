/** How the ledger's calls are sent and read: arguments validated and fingerprinted, outcomes as transfers. */
import * as repo from '../../db/ledger/ledger-repo.js';
import type { RawOutcome } from '../../db/ledger/ledger-repo.js';
import { assertId, assertKey, assertPoints, requestHash } from '../../domain/ledger/rules.js';
import type { EarnSource, Transfer } from '../../domain/ledger/types.js';
import { AppError } from '../../shared/errors.js';

type RawTransfer = Omit<Transfer, 'createdAt' | 'expiresAt' | 'holdExpiresAt' | 'reason'> & {
  createdAt: string;
  expiresAt: string | null;
  holdExpiresAt: string | null;
  reasonKey: string;
  reasonParams: Record<string, unknown> | null;
};

export const toDate = (v: string | null): Date | null => (v == null ? null : new Date(v));

export function toTransfer(raw: unknown): Transfer {
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
export type Sent<K extends repo.CreditArgs['kind'] | repo.DebitArgs['kind'] = repo.CreditArgs['kind'] | repo.DebitArgs['kind']> =
  Omit<repo.CreditArgs, 'kind'> & Omit<repo.DebitArgs, 'kind'> & { kind: K };

/**
 * ok → the new transfer; replay → the stored one; mismatch → the key was reused for something
 * else. A credit or debit that went through answers only with what its caller does not know (the
 * id and, for a credit, the lot's expiry): the rest is what the caller sent.
 */
export function transferOf(raw: RawOutcome, key: string, sent?: Sent): Transfer | undefined {
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

export function assertParticipant(input: { programId: string; participantId: string; campaignId?: string | null | undefined }): void {
  assertId(input.programId, 'programId');
  assertId(input.participantId, 'participantId');
  assertId(input.campaignId, 'campaignId');
}

export const RESOLVED: Record<string, 'posted' | 'voided' | 'confirmed' | 'dropped'> = {
  post: 'posted',
  void: 'voided',
  confirm: 'confirmed',
  drop: 'dropped',
};

/**
 * What a credit or a debit sends, validated, with the fingerprint of what its key stands for. One
 * object literal, built once per transfer (this runs on every earn and spend, so no spreads): a
 * credit's source and expiry, a hold's timeout, each null where it does not apply.
 */
export function sentArgs<K extends Sent['kind']>(
  now: Date,
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
    now,
  };
}

