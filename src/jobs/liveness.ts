/**
 * This process's heartbeat, and releasing the claims of processes that stopped beating
 * (db/liveness.ts). Releasing waits until this process has itself been in touch with the
 * database for `deadAfterMs` without a gap: after an outage every process's heartbeat is old at
 * once, and a live one must get the time to beat again (and write the sent marks it holds) before
 * anyone takes its claims for a dead process's.
 */
import type { Sql } from '../db/sql.js';
import type { Logger } from '../shared/logger.js';
import * as liveness from '../db/liveness.js';
import { reportDbFailure } from '../db/availability.js';
import { incident } from '../shared/incidents.js';

export interface LivenessOptions {
  sql: Sql;
  logger: Logger;
  processId: string;
  /** Release claims of dead processes (worker roles); others only beat. */
  release: boolean;
  everyMs?: number;
  deadAfterMs?: number;
  /** Told after claims were put back, so they are sent at once (the outbox sweep, the lanes). */
  onReleased?: () => void;
}

export function startLiveness(o: LivenessOptions): { close(): Promise<void> } {
  const everyMs = o.everyMs ?? 2_000;
  const deadAfterMs = o.deadAfterMs ?? 3 * everyMs;
  let inTouchSince: number | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  async function beat(): Promise<void> {
    try {
      await liveness.heartbeat(o.sql, o.processId);
      inTouchSince ??= Date.now();
      incident(o.logger, 'database').ok();
    } catch (error) {
      inTouchSince = undefined;
      reportDbFailure(o.logger, error, 'heartbeat failed');
      return;
    }
    if (!o.release || Date.now() - inTouchSince < deadAfterMs) return;
    try {
      const released = await liveness.releaseClaimsOfDead(o.sql, o.processId, deadAfterMs);
      if (released.outbox || released.deliveries) {
        o.logger.warn(released, 'claims of a stopped process put back to be sent');
        o.onReleased?.();
      }
    } catch (error) {
      reportDbFailure(o.logger, error, 'releasing claims of stopped processes failed');
    }
  }

  const timer = setInterval(() => {
    running = running.then(() => (closed ? undefined : beat()));
  }, everyMs);
  timer.unref();
  running = beat();
  return {
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
      await liveness.forget(o.sql, o.processId).catch(() => undefined);
    },
  };
}
