/**
 * One batch of polled updates: different chats' updates run concurrently, each chat's in order;
 * a chat stops at its first failure so its later updates wait for the retry.
 */
import type { Update } from 'grammy/types';
import type { Logger } from '../../shared/logger.js';
import { isUnavailable } from '../../db/availability.js';
import { incident } from '../../shared/incidents.js';

function chatKeyOf(update: Update): string {
  const chat = update.message?.chat.id ?? update.callback_query?.message?.chat.id ?? update.my_chat_member?.chat.id;
  const user = update.callback_query?.from.id ?? update.message?.from?.id;
  return String(chat ?? user ?? `u${update.update_id}`);
}

/**
 * Handles one batch; `failedAt` is the update_id to fetch again from (the earliest one that
 * failed), undefined when every update committed; `unavailable` says an update failed only because
 * the database is away.
 */
export async function handleBatch(
  updates: Update[],
  handle: (update: Update) => Promise<void>,
  concurrency: number,
  log: Logger,
): Promise<{ failedAt: number | undefined; unavailable: boolean }> {
  const byChat = new Map<string, Update[]>();
  for (const update of updates) {
    const key = chatKeyOf(update);
    byChat.set(key, [...(byChat.get(key) ?? []), update]);
  }
  let firstFailed: number | undefined;
  let unavailable = false;
  const queues = [...byChat.values()];
  const workers = Array.from({ length: Math.min(concurrency, queues.length) }, async () => {
    for (let queue = queues.shift(); queue; queue = queues.shift()) {
      for (const update of queue) {
        try {
          await handle(update);
        } catch (error) {
          const cause = (error as { error?: unknown }).error ?? error;
          // The database away: one incident line, not one error per update and attempt.
          if (isUnavailable(cause)) {
            unavailable = true;
            incident(log, 'database').fail(cause, { via: 'telegram polling' });
          } else log.error({ err: cause, updateId: update.update_id }, 'telegram: update not handled, will retry');
          firstFailed = Math.min(firstFailed ?? Infinity, update.update_id);
          break; // later updates of this chat wait, so the chat's order is kept
        }
      }
    }
  });
  await Promise.all(workers);
  return { failedAt: firstFailed, unavailable };
}

