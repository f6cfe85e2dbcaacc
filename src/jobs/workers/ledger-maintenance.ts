import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Ledger } from '../../services/ledger/index.js';
import type { Logger } from '../../shared/logger.js';
import { LedgerJob, QUEUES } from '../contracts.js';
import { reportErrorsOf } from '../../shared/incidents.js';
import { repeatEvery } from '../repeating.js';
import { reportDbFailure } from '../../db/availability.js';

export interface LedgerMaintenanceOptions {
  /** A BullMQ connection (maxRetriesPerRequest: null), e.g. `redis.bullmq()`. */
  connection: Redis | ConnectionOptions;
  prefix?: string;
  ledger: Ledger;
  logger: Logger;
  /** How often each sweep runs (default every minute). */
  everyMs?: number;
}

/**
 * Expires due lots and voids holds past their time on a schedule. The scheduler is an upsert, so
 * every worker process may declare it and one schedule results; the sweeps themselves are
 * idempotent (keys `expire:<lot>`, `<hold>:void`), so an overlapping or repeated run does nothing
 * twice.
 */
export async function startLedgerMaintenance(options: LedgerMaintenanceOptions): Promise<{ close(): Promise<void> }> {
  const { connection, prefix, ledger, logger } = options;
  const every = options.everyMs ?? 60_000;
  const queue = new Queue(QUEUES.ledger, { connection, prefix });
  reportErrorsOf(queue, logger, 'redis');
  await repeatEvery(queue, 'ledger-expire-lots', every, {
    name: 'expire-lots',
    data: { kind: 'expire-lots' } satisfies LedgerJob,
    opts: { removeOnComplete: 100, removeOnFail: 500 },
  });
  await repeatEvery(queue, 'ledger-void-expired-holds', every, {
    name: 'void-expired-holds',
    data: { kind: 'void-expired-holds' } satisfies LedgerJob,
    opts: { removeOnComplete: 100, removeOnFail: 500 },
  });
  const worker = new Worker(
    QUEUES.ledger,
    async (job) => {
      const data = LedgerJob.parse(job.data);
      const result = data.kind === 'expire-lots' ? await ledger.expireDueLots() : await ledger.voidExpiredHolds();
      return result;
    },
    { connection, prefix, concurrency: 1 },
  );
  worker.on('failed', (job, err) => reportDbFailure(logger, err, 'ledger maintenance job failed', { job: job?.name }));
  reportErrorsOf(worker, logger, 'redis');
  return {
    close: async () => {
      await worker.close();
      await queue.close();
    },
  };
}
