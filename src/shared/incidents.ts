/**
 * One structured log line per incident, not a stack trace per failed call (issue 25). An
 * incident is a named dependency (database, redis, ...) failing: the first failure logs one warn
 * line with the error's code and message; further failures only count; the first success after
 * it logs one info line with how long it lasted and how many calls failed meanwhile.
 *
 * Trackers are shared per logger and name, so the engine, the lanes and the health route report
 * into the same incident without passing a tracker around.
 */
import type { Logger } from './logger.js';

export interface Incident {
  /** A call failed because of this dependency. Logs only when no incident is open. */
  fail(error: unknown, context?: Record<string, unknown>): void;
  /** A call succeeded: closes an open incident (one line). */
  ok(): void;
  /** Since when the incident is open, or undefined. */
  openSince(): number | undefined;
}

const trackers = new WeakMap<object, Map<string, Incident>>();

/** The error's code and message, without a stack: what an operator needs in one line. */
export function briefError(error: unknown): { errorCode?: string; error: string } {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = e && typeof e === 'object' && typeof e.code === 'string' ? e.code : undefined;
  const message = e && typeof e === 'object' && typeof e.message === 'string' ? e.message : String(error);
  return { ...(code ? { errorCode: code } : {}), error: message.slice(0, 300) };
}

export function incident(logger: Logger, name: string): Incident {
  let byName = trackers.get(logger);
  if (!byName) trackers.set(logger, (byName = new Map()));
  let tracker = byName.get(name);
  if (!tracker) byName.set(name, (tracker = createIncident(logger, name)));
  return tracker;
}

function createIncident(logger: Logger, name: string): Incident {
  let since: number | undefined;
  let failures = 0;
  return {
    fail(error, context) {
      failures++;
      if (since !== undefined) return;
      since = Date.now();
      logger.warn({ incident: name, ...briefError(error), ...context }, `${name} unavailable`);
    },
    ok() {
      if (since === undefined) return;
      logger.info({ incident: name, downMs: Date.now() - since, failedCalls: failures }, `${name} available again`);
      since = undefined;
      failures = 0;
    },
    openSince: () => since,
  };
}

/** Routes an emitter's 'error' events (ioredis, BullMQ queues and workers) into an incident. */
export function reportErrorsOf(emitter: { on(event: 'error', fn: (error: Error) => void): unknown }, logger: Logger, name: string): void {
  emitter.on('error', (error: Error) => incident(logger, name).fail(error));
}

/**
 * For a BullMQ queue made on a connection that already reports into the 'redis' incident
 * (jobs/redis.ts): its re-emitted copies of those errors are dropped, not printed by BullMQ as a
 * stack trace each.
 */
export function quietErrorsOf(emitter: { on(event: 'error', fn: (error: Error) => void): unknown }): void {
  emitter.on('error', () => undefined);
}
