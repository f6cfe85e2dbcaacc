/**
 * A manager's points adjustment by hand: the ledger transfer and its audit entry in one
 * transaction, the entry written once however often the same key is sent.
 */
import { audit } from '../../db/audit-repo.js';
import type { Sql } from '../../db/sql.js';
import type { AdjustResult, Ledger } from '../ledger/index.js';

export interface PointAdjustment {
  programId: string;
  participantId: string;
  /** Signed, non-zero. */
  amount: number;
  /** The manager's words, kept in the transfer's reason and in the audit entry. */
  note: string;
  key: string;
  actor: string;
}

export async function adjustPoints(deps: { sql: Sql; ledger: Pick<Ledger, 'adjust'> }, a: PointAdjustment): Promise<AdjustResult> {
  return deps.sql.begin(async (tx) => {
    const r = await deps.ledger.adjust(tx, {
        programId: a.programId,
        participantId: a.participantId,
        amount: a.amount,
        key: a.key,
        actor: a.actor,
        reason: { key: 'bot:ledger.adjustment', params: { note: a.note } },
      });
    if (r.status === 'adjusted' && !r.transfer.replayed) {
      await audit(tx, a.actor, 'participant.adjust', `participant:${a.participantId}`, { amount: a.amount, reason: a.note, key: a.key });
    }
    return r;
  }) as Promise<AdjustResult>;
}
