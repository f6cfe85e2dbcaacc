/**
 * What the WhatsApp process has sent, by the sender's message key (`outbox:<id>`), in Postgres.
 * WhatsApp has no idempotency keys, so this is what makes a message handed over again (a retried
 * hand-over, a claim taken over after a crash, a Redis flush that lost the confirmation) come back
 * as "sent" instead of reaching the participant twice. The one window left is between
 * `sendMessage` returning and `record` committing: a crash exactly there sends the message again.
 */
import type { Db } from '../../db/sql.js';

export interface SentLedger {
  /** The provider id of an earlier send of `key`, or undefined when it was never sent. */
  find(key: string): Promise<{ providerMessageId: string | null } | undefined>;
  record(key: string, providerMessageId: string | undefined): Promise<void>;
  /** Forgets keys older than `days` (no message is re-sent that late). */
  prune(days?: number): Promise<number>;
}

export function createSentLedger(db: Db): SentLedger {
  return {
    async find(key) {
      const [row] = await db<{ providerMessageId: string | null }[]>`
        select provider_message_id from whatsapp_sent where key = ${key}`;
      return row;
    },
    async record(key, providerMessageId) {
      await db`
        insert into whatsapp_sent (key, provider_message_id) values (${key}, ${providerMessageId ?? null})
        on conflict (key) do nothing`;
    },
    async prune(days = 30) {
      const rows = await db`delete from whatsapp_sent where sent_at < now() - make_interval(days => ${days}) returning 1`;
      return rows.length;
    },
  };
}
