/**
 * Slow, jittered, capped sending. WhatsApp bans numbers that behave like bulk senders, and this
 * is an unofficial client: one message at a time for the whole number, a random pause of
 * `minDelayMs`–`maxDelayMs` between messages, and a daily cap counted in Postgres (so restarts and
 * a second process do not reset it). Broadcasts may use only `broadcastShare` of the cap, so
 * participants who write in still get answers on a heavy broadcast day.
 *
 * Sends run strictly one after another in the order they were admitted, which keeps each chat's
 * messages in order. A send that would wait longer than `maxWaitMs` is not queued: it gets a
 * `retryAfterMs` back, and the outbox sender retries it later without counting an attempt.
 */
import type { Db } from '../../db/sql.js';
import { countSend } from '../../db/whatsapp/daily-sends-repo.js';
import { systemClock, type Clock } from '../../shared/clock.js';

export type SendKind = 'reply' | 'broadcast';

export interface PacingOptions {
  minDelayMs: number;
  maxDelayMs: number;
  dailyCap: number;
  /** Part of the daily cap broadcasts may use (0–1). */
  broadcastShare: number;
  maxWaitMs: number;
}

export const DEFAULT_PACING: PacingOptions = {
  minDelayMs: 3_000,
  maxDelayMs: 10_000,
  dailyCap: 1_000,
  broadcastShare: 0.8,
  maxWaitMs: 20_000,
};

export type Admission<T> = { admitted: true; result: T } | { admitted: false; retryAfterMs: number; why: 'busy' | 'daily_cap' };

export interface Pacer {
  /** Runs `send` in its turn, or says when to come back. */
  run<T>(kind: SendKind, send: () => Promise<T>): Promise<Admission<T>>;
  /** Today's counts, for the status API. */
  today(): Promise<{ replies: number; broadcasts: number; cap: number }>;
}

export interface PacerDeps {
  db: Db;
  options?: Partial<PacingOptions>;
  clock?: Clock;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const utcDay = (d: Date) => d.toISOString().slice(0, 10);
const msToNextUtcDay = (d: Date) => {
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  return next - d.getTime();
};

export function createPacer(deps: PacerDeps): Pacer {
  const o = { ...DEFAULT_PACING, ...deps.options };
  if (o.minDelayMs < 0 || o.maxDelayMs < o.minDelayMs) throw new Error('pacing: need 0 <= minDelayMs <= maxDelayMs');
  const clock = deps.clock ?? systemClock;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const broadcastCap = Math.floor(o.dailyCap * o.broadcastShare);

  // When the next message may go out; later admissions queue behind earlier ones.
  let nextAt = 0;
  let admission: Promise<unknown> = Promise.resolve();
  let sending: Promise<unknown> = Promise.resolve();

  /** Counts one send against today's cap, atomically; false when the cap is reached. */
  async function reserve(kind: SendKind, now: Date): Promise<boolean> {
    const day = utcDay(now);
    const limit = kind === 'broadcast' ? broadcastCap : o.dailyCap;
    if (limit <= 0) return false;
    return countSend(deps.db, day, kind, limit);
  }

  return {
    async run<T>(kind: SendKind, send: () => Promise<T>): Promise<Admission<T>> {
      type Decision = { turn: Promise<T> } | { retryAfterMs: number; why: 'busy' | 'daily_cap' };
      const decision = admission.then(async (): Promise<Decision> => {
        const now = clock.now();
        const wait = Math.max(0, nextAt - now.getTime());
        if (wait > o.maxWaitMs) return { retryAfterMs: wait, why: 'busy' };
        if (!(await reserve(kind, now))) return { retryAfterMs: msToNextUtcDay(now), why: 'daily_cap' };
        const slot = Math.max(nextAt, now.getTime());
        nextAt = slot + o.minDelayMs + Math.round(random() * (o.maxDelayMs - o.minDelayMs));
        const turn = sending.then(async () => {
          const delay = slot - clock.now().getTime();
          if (delay > 0) await sleep(delay);
          return send();
        });
        sending = turn.catch(() => undefined);
        return { turn };
      });
      // The next admission waits for this decision only, not for the send itself.
      admission = decision.catch(() => undefined);
      const d = await decision;
      if ('turn' in d) return { admitted: true, result: await d.turn };
      return { admitted: false, retryAfterMs: d.retryAfterMs, why: d.why };
    },
    async today() {
      const [row] = await deps.db<{ replies: number; broadcasts: number }[]>`
        select replies, broadcasts from whatsapp_daily_sends where day = ${utcDay(clock.now())}`;
      return { replies: row?.replies ?? 0, broadcasts: row?.broadcasts ?? 0, cap: o.dailyCap };
    },
  };
}
