/**
 * Long polls of the web chat wait for a NOTIFY on `web_messages` (a trigger, migration 0051) instead
 * of asking Postgres every 300 ms: one LISTEN connection per process, one query per wake-up. Open
 * polls are capped per session and per address, and `endAll()` (server shutdown) answers every
 * open poll at once, so stopping never waits for a 20-second poll.
 */
import type { Sql } from '../db/sql.js';

export interface PollWaiters {
  /** Resolves when a message for `chatId` may have arrived, after `ms`, or at shutdown. */
  wait(chatId: string, ms: number): Promise<void>;
  /** Takes a slot for an open poll; undefined when the session or the address has too many open. */
  open(session: string, address: string): (() => void) | undefined;
  readonly closing: boolean;
  endAll(): Promise<void>;
}

export function createPollWaiters(sql: Sql, limits = { perSession: 2, perAddress: 100 }): PollWaiters {
  const waiting = new Map<string, Set<() => void>>();
  const openBySession = new Map<string, number>();
  const openByAddress = new Map<string, number>();
  let closing = false;
  const wakeChat = (chatId: string) => {
    for (const wake of waiting.get(chatId) ?? []) wake();
  };
  // Started on first use; if LISTEN fails (a pooler without it) polls still end by their timeout.
  let listening: Promise<{ unlisten(): Promise<void> } | undefined> | undefined;
  const listen = () => (listening ??= sql.listen('web_messages', (chatId) => wakeChat(chatId)).catch(() => undefined));
  const bump = (map: Map<string, number>, key: string, by: number) => {
    const n = (map.get(key) ?? 0) + by;
    if (n <= 0) map.delete(key);
    else map.set(key, n);
  };
  return {
    get closing() {
      return closing;
    },
    async wait(chatId, ms) {
      if (closing) return;
      await listen();
      await new Promise<void>((resolve) => {
        const set = waiting.get(chatId) ?? new Set<() => void>();
        waiting.set(chatId, set);
        const done = () => {
          clearTimeout(timer);
          set.delete(done);
          if (!set.size) waiting.delete(chatId);
          resolve();
        };
        const timer = setTimeout(done, ms);
        set.add(done);
      });
    },
    open(session, address) {
      if ((openBySession.get(session) ?? 0) >= limits.perSession || (openByAddress.get(address) ?? 0) >= limits.perAddress) return undefined;
      bump(openBySession, session, 1);
      bump(openByAddress, address, 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        bump(openBySession, session, -1);
        bump(openByAddress, address, -1);
      };
    },
    async endAll() {
      closing = true;
      for (const chatId of [...waiting.keys()]) wakeChat(chatId);
      const l = await listening;
      await l?.unlisten().catch(() => undefined);
    },
  };
}
