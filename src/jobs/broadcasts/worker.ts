/**
 * The broadcast queue: fan-out jobs (one per broadcast, batch by batch) and two scheduled jobs:
 * `tick` (every 2 s: start due broadcasts, release claims of dead processes, close finished
 * broadcasts) and `announce` (every minute: campaign start/end announcements and expiry
 * reminders). Delivery itself runs in the lanes of ./delivery.ts, started here too.
 *
 * Postgres stays the truth: if Redis loses every job, the next tick finds due and unfinished
 * fan-outs from the broadcasts table again.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Sql } from '../../db/sql.js';
import type { Logger } from '../../shared/logger.js';
import type { ChannelRegistry } from '../../channels/channel.js';
import type { I18n } from '../../i18n/index.js';
import { QUEUES, BroadcastJob, jobId } from '../contracts.js';
import * as repo from '../../db/broadcasts/repo.js';
import * as deliveries from '../../db/broadcasts/deliveries-repo.js';
import { createDueAutomatic, type AutomaticOptions } from '../../services/broadcasts/automatic.js';
import { startDeliveryLanes, type DeliveryLanes, type DeliveryOptions } from './delivery.js';
import type { ChannelGate } from '../rate-gate.js';
import { reportErrorsOf, quietErrorsOf } from '../../shared/incidents.js';
import { repeatEvery, stopRepeating } from '../repeating.js';
import { reportDbFailure } from '../../db/availability.js';

export interface BroadcastWorkerDeps {
  sql: Sql;
  connection: () => Redis;
  prefix?: string;
  channels: ChannelRegistry;
  gate: ChannelGate;
  i18n: I18n;
  logger: Logger;
  delivery?: DeliveryOptions;
  automatic?: Partial<AutomaticOptions>;
  /** Participants written per fan-out batch. */
  fanoutBatchSize?: number;
  tickEveryMs?: number;
  announceEveryMs?: number;
  /** false: no announcements/reminders scheduler (tests of manual broadcasts). */
  automaticEnabled?: boolean;
}

export interface BroadcastWorker {
  /** Fan out (and send) a broadcast now if it is due. */
  kick(broadcastId: string): Promise<void>;
  /** Runs one tick now (tests, and right after start). */
  tick(): Promise<void>;
  /** Creates due announcements now (tests). */
  announce(): Promise<void>;
  lanes: DeliveryLanes;
  close(): Promise<void>;
}

/** Producer side only: what the HTTP process needs to kick a fan-out without running workers. */
export function createBroadcastKicker(deps: { connection: () => Redis; prefix?: string }) {
  const queue = new Queue(QUEUES.broadcast, { connection: deps.connection(), prefix: deps.prefix });
  quietErrorsOf(queue);
  return {
    kick: async (broadcastId: string) => {
      await queue.add('fanout', { broadcastId }, { jobId: jobId('f', broadcastId), removeOnComplete: true, removeOnFail: 1000 });
    },
    close: () => queue.close(),
  };
}

export async function startBroadcastWorker(deps: BroadcastWorkerDeps): Promise<BroadcastWorker> {
  const { sql, logger } = deps;
  const batchSize = deps.fanoutBatchSize ?? 1000;
  const queue = new Queue(QUEUES.broadcast, { connection: deps.connection(), prefix: deps.prefix });
  reportErrorsOf(queue, logger, 'redis');
  const lanes = startDeliveryLanes({ sql, channels: deps.channels, gate: deps.gate, i18n: deps.i18n, logger, options: deps.delivery });

  /** Fan-out, batch by batch; each batch is its own transaction holding the broadcast row. */
  async function fanout(broadcastId: string): Promise<void> {
    if (!(await repo.isDue(sql, broadcastId))) return; // the tick starts it when its time comes
    const started = await repo.transition(sql, broadcastId, ['scheduled'], 'fanning_out');
    if (started) lanes.poke();
    for (;;) {
      const n = await sql.begin(async (tx) => {
        if ((await repo.lockDue(tx, broadcastId)) !== 'fanning_out') return -1;
        const fresh = (await repo.getById(tx, broadcastId))!;
        if (fresh.fanoutDone) return 0;
        const covered = await repo.fanoutBatch(tx, fresh, batchSize);
        if (covered < batchSize) await repo.finishFanout(tx, broadcastId);
        return covered;
      });
      if (n < 0) return;
      lanes.poke();
      if (n < batchSize) {
        logger.info({ broadcastId }, 'broadcast fanned out');
        return;
      }
    }
  }

  async function tick(): Promise<void> {
    const released = await lanes.releaseStale();
    if (released) logger.warn({ released }, 'broadcast: claims of a stopped process queued again');
    for (const id of await repo.dueForFanout(sql)) {
      await queue.add('fanout', { broadcastId: id }, { jobId: jobId('f', id), removeOnComplete: true, removeOnFail: 1000 });
    }
    const done = await deliveries.completeFinished(sql);
    if (done.length) logger.info({ done }, 'broadcasts finished');
  }

  async function announce(): Promise<void> {
    const created = await createDueAutomatic(sql, deps.automatic);
    if (created.length) {
      logger.info({ created: created.map((b) => ({ id: b.id, kind: b.kind })) }, 'automatic broadcasts created');
      await tick();
    }
  }

  const worker = new Worker(
    QUEUES.broadcast,
    async (job: Job) => {
      if (job.name === 'fanout') return fanout(BroadcastJob.parse(job.data).broadcastId);
      if (job.name === 'tick') return tick();
      if (job.name === 'announce') return announce();
      logger.warn({ name: job.name }, 'broadcast: unknown job');
    },
    { connection: deps.connection(), prefix: deps.prefix, concurrency: 4 },
  );
  worker.on('failed', (job, error) => reportDbFailure(logger, error, 'broadcast job failed', { job: job?.name }));
  reportErrorsOf(worker, logger, 'redis');

  await repeatEvery(queue, 'broadcast-tick', deps.tickEveryMs ?? 2_000, { name: 'tick', opts: { removeOnComplete: true, removeOnFail: 100 } });
  if (deps.automaticEnabled !== false) {
    await repeatEvery(queue, 'broadcast-announce', deps.announceEveryMs ?? 60_000, { name: 'announce', opts: { removeOnComplete: true, removeOnFail: 100 } });
  } else {
    await stopRepeating(queue, 'broadcast-announce');
  }

  return {
    async kick(broadcastId) {
      await queue.add('fanout', { broadcastId }, { jobId: jobId('f', broadcastId), removeOnComplete: true, removeOnFail: 1000 });
      lanes.poke();
    },
    tick,
    announce,
    lanes,
    async close() {
      await worker.close();
      await lanes.close();
      await queue.close();
    },
  };
}
