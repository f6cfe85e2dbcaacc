/**
 * Recovery from Postgres and Redis faults (issue 25), the parts that run beside everything else:
 * this process's heartbeat and the release of dead processes' claims (jobs/liveness.ts), and the
 * watch that re-creates repeating jobs Redis lost (jobs/repeating.ts). The bounded waits, retries
 * and incident lines live where the waiting happens (db/, the message transaction, the lanes).
 */
import { randomUUID } from 'node:crypto';
import { applicationNameOf } from '../db/liveness.js';
import { startLiveness } from '../jobs/liveness.js';
import { watchRepeatingJobs } from '../jobs/repeating.js';
import type { Core } from './feature.js';

/** The id that names this process's claims; its pool connects as `applicationName`. */
export function processIdentity(): { processId: string; applicationName: string } {
  const processId = randomUUID();
  return { processId, applicationName: applicationNameOf(processId) };
}

export function startRecovery(core: Core, processId: string, sender?: { poke(): Promise<void> }): void {
  const liveness = startLiveness({
    sql: core.sql,
    logger: core.logger,
    processId,
    release: core.runs.worker,
    // Released outbox rows are sent at once rather than at the next sweep.
    onReleased: () => void sender?.poke().catch(() => undefined),
  });
  core.life.add('liveness', liveness.close);
  const repeating = watchRepeatingJobs({ logger: core.logger, connections: [core.redis.client] });
  core.life.add('repeating jobs', async () => repeating.close());
}
