/**
 * The receipts queue: a producer (`enqueue` after the intake committed) and a thin worker that
 * calls `receipts.process`. Postgres stays the source of truth: a sweeper re-enqueues receipts
 * still unread after a while (lost job, flushed Redis), and a job id per receipt keeps a receipt
 * from being queued twice at once. Processing itself is idempotent (only `received` moves on).
 * A receipt that keeps failing is not re-queued for ever: `process` counts its runs in Postgres and,
 * after the job's attempts (5), sets it aside as pending with the flag `unreadable` for a moderator.
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../shared/logger.js';
import type { ReceiptJobs, ReceiptsService } from '../../services/receipts/index.js';
import { QUEUES, ReceiptJob, jobId } from '../contracts.js';
import { reportErrorsOf, quietErrorsOf } from '../../shared/incidents.js';

export interface ReceiptQueueDeps {
  connection: () => Redis;
  prefix?: string;
}

export interface ReceiptQueue extends ReceiptJobs {
  close(): Promise<void>;
}

const JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential' as const, delay: 2000 },
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 86_400 },
};

export function createReceiptQueue(deps: ReceiptQueueDeps): ReceiptQueue & { queue: Queue } {
  const queue = new Queue(QUEUES.receipts, { connection: deps.connection(), prefix: deps.prefix });
  quietErrorsOf(queue);
  return {
    queue,
    async enqueue(receiptId) {
      const data: ReceiptJob = { receiptId };
      await queue.add('process', data, { ...JOB_OPTIONS, jobId: jobId('r', receiptId) });
    },
    close: () => queue.close(),
  };
}

export interface ReceiptWorkerDeps extends ReceiptQueueDeps {
  receipts: ReceiptsService;
  logger: Logger;
  /** Photos read at once per process: decoding is CPU-bound, so about one per core. */
  concurrency?: number;
  /** How often to look for receipts whose job was lost, and how old they must be. */
  sweepIntervalMs?: number;
  staleAfterMs?: number;
}

export interface ReceiptWorker {
  /** Re-enqueues receipts still unread (also run at start). */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

export function startReceiptWorker(deps: ReceiptWorkerDeps): ReceiptWorker {
  const queue = createReceiptQueue(deps);
  const worker = new Worker(
    QUEUES.receipts,
    async (job) => {
      const { receiptId } = ReceiptJob.parse(job.data);
      const result = await deps.receipts.process(receiptId);
      deps.logger.info({ receiptId, status: result.status, ...(result.status === 'processed' ? { autoApproved: result.autoApproved, flags: result.receipt.flags } : {}) }, 'receipt processed');
      return result.status;
    },
    { connection: deps.connection(), prefix: deps.prefix, concurrency: deps.concurrency ?? 2 },
  );
  worker.on('failed', (job, err) => deps.logger.warn({ err, receiptId: job?.data?.receiptId, attempts: job?.attemptsMade }, 'receipt job failed'));
  reportErrorsOf(worker, deps.logger, 'redis');

  const sweep = async () => {
    const ids = await deps.receipts.stale(deps.staleAfterMs ?? 60_000);
    for (const id of ids) {
      // A finished or failed job with this id would make the add a no-op: drop it first.
      const old = await queue.queue.getJob(jobId('r', id));
      const state = old ? await old.getState() : undefined;
      if (old && (state === 'completed' || state === 'failed')) await old.remove().catch(() => undefined);
      await queue.enqueue(id);
    }
    return ids.length;
  };

  const timer = setInterval(() => {
    sweep().catch((err) => deps.logger.warn({ err }, 'receipt sweep failed'));
  }, deps.sweepIntervalMs ?? 60_000);
  timer.unref();
  void sweep().catch((err) => deps.logger.warn({ err }, 'receipt sweep failed'));

  return {
    sweep,
    async close() {
      clearInterval(timer);
      await worker.close();
      await queue.close();
    },
  };
}
