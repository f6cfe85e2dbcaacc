/**
 * Recording broadcast sends (issue 25): a send the platform took is marked where a lost
 * connection cannot lose it, and a claim whose other outcome the database did not take goes back
 * to the queue once it answers. See the comments below; delivery.ts uses them.
 */
import type { Sql } from '../../db/sql.js';
import type { Logger } from '../../shared/logger.js';
import * as repo from '../../db/broadcasts/deliveries-repo.js';
import { reportDbFailure } from '../../db/availability.js';

export interface DeliveryMarks {
  markSent(id: number, providerMessageId: string | undefined): void;
  giveBack(ids: number[]): void;
  /** On shutdown: writes what it holds, retrying for up to `ms`. */
  drain(ms: number): Promise<void>;
}

export function createDeliveryMarks(o: { sql: Sql; logger: Logger; everyMs: number; retryMs: number }): DeliveryMarks {
  const { sql, logger } = o;
  let closing = false;
  // Sent marks, written in one statement every few milliseconds: at 1,000 sends/s one UPDATE per
  // send would crowd the pool the conversations use. A mark the database did not take (connection
  // lost, server restarting) is kept and written again every `markRetryMs` until it is: the row
  // stays claimed by this live process meanwhile (db/liveness.ts), so nobody sends it again. Only
  // a kill loses marks, those of the last window; their rows are sent again like a send in flight.
  let marks: Array<{ id: number; providerMessageId?: string }> = [];
  let flushing: Promise<void> = Promise.resolve();
  let flushTimer: NodeJS.Timeout | undefined;
  function flushMarks(): Promise<void> {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    const rows = marks;
    marks = [];
    if (!rows.length) return flushing;
    flushing = flushing.then(async () => {
      try {
        await repo.markSentMany(sql, rows);
      } catch (error) {
        reportDbFailure(logger, error, 'broadcast: could not record sent deliveries', { n: rows.length });
        marks = [...rows, ...marks];
        if (!closing) flushTimer ??= setTimeout(() => void flushMarks(), o.retryMs);
      }
    });
    return flushing;
  }
  function markSent(id: number, providerMessageId: string | undefined): void {
    marks.push({ id, ...(providerMessageId ? { providerMessageId } : {}) });
    if (marks.length >= 200 || o.everyMs <= 0) void flushMarks();
    else flushTimer ??= setTimeout(() => void flushMarks(), o.everyMs);
  }
  /**
   * Claims whose outcome (not a send: a failure, a requeue, unreachable) the database did not take:
   * given back to the queue as soon as it answers, so they do not wait out the stale limit. Resending
   * such a row is right, it was not sent.
   */
  let givingBack: number[] = [];
  let giveBackTimer: NodeJS.Timeout | undefined;
  function giveBack(ids: number[]): void {
    givingBack.push(...ids);
    giveBackTimer ??= setTimeout(async () => {
      giveBackTimer = undefined;
      const batch = givingBack;
      givingBack = [];
      await repo.unclaim(sql, batch).catch((error: unknown) => {
        reportDbFailure(logger, error, 'broadcast: unclaim failed');
        if (!closing) giveBack(batch);
      });
    }, o.retryMs);
  }

  /** On shutdown: the marks held are written, retried for up to `ms`, then logged as lost. */
  async function drain(ms: number): Promise<void> {
    closing = true;
    const until = Date.now() + ms;
    for (;;) {
      await flushMarks();
      if (!marks.length) return;
      if (Date.now() > until) {
        logger.error({ ids: marks.map((m) => m.id) }, 'broadcast: sent marks not recorded at shutdown; these may be sent again');
        return;
      }
      await new Promise((r) => setTimeout(r, o.retryMs));
    }
  }

  return { markSent, giveBack, drain };
}
