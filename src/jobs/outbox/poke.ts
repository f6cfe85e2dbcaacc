/**
 * The dialog engine's after-commit poke (`onCommitted`): tells a sender that a chat has new outbox
 * rows, without putting anything into the message's transaction.
 *
 * With a sender in this process it is called directly. Otherwise (ROLE=web) a NOTIFY on the
 * sender's channel goes out as its own tiny statement after the commit, and every listening sender
 * (ROLE=all|worker) schedules the chat. A NOTIFY inside the message transaction would instead make
 * Postgres serialise the commits (fsync included) of all message transactions on one global lock.
 * A lost poke costs only latency: the sender's sweeper picks the row up.
 */
import type { Sql } from '../../db/sql.js';
import type { Logger } from '../../shared/logger.js';
import type { ChannelId } from '../../dialog/types.js';
import { OUTBOX_NOTIFY_CHANNEL } from '../../db/outbox/repo.js';
import type { OutboxSender } from './sender.js';

export type Chat = { channel: ChannelId; chatId: string };

export function createOutboxPoke(deps: {
  sql: Sql;
  logger?: Logger;
  /** The in-process sender, when this process runs one. */
  sender?: Pick<OutboxSender, 'poke'>;
}): (chats: Chat[]) => void {
  const { sender } = deps;
  return (chats) => {
    for (const chat of chats) {
      const poked = sender
        ? sender.poke(chat)
        : deps.sql.notify(OUTBOX_NOTIFY_CHANNEL, `${chat.channel} ${chat.chatId}`);
      // Fire and forget: the reply is committed already, and the sweeper covers a lost poke.
      poked.catch((err: unknown) => deps.logger?.debug({ err }, 'outbox poke failed; the sweeper will send it'));
    }
  };
}
