/**
 * What the WhatsApp process has sent, by the sender's message key (`outbox:<id>`), in Postgres.
 * WhatsApp has no idempotency keys, so this is what makes a message handed over again (a retried
 * hand-over, a claim taken over after a crash, a Redis flush that lost the confirmation) come back
 * as "sent" instead of reaching the participant twice. The one window left is between
 * `sendMessage` returning and `record` committing: a crash exactly there sends the message again.
 */
import type { Db } from '../../db/sql.js';
import * as sent from '../../db/whatsapp/sent-repo.js';

export interface SentLedger {
  /** The provider id of an earlier send of `key`, or undefined when it was never sent. */
  find(key: string): Promise<{ providerMessageId: string | null } | undefined>;
  record(key: string, providerMessageId: string | undefined): Promise<void>;
  /** Forgets keys older than `days` (no message is re-sent that late). */
  prune(days?: number): Promise<number>;
}

export function createSentLedger(db: Db): SentLedger {
  return {
    find: (key) => sent.findSent(db, key),
    record: (key, providerMessageId) => sent.recordSent(db, key, providerMessageId),
    prune: (days = 30) => sent.pruneSent(db, days),
  };
}
