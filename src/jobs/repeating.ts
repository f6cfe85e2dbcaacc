/**
 * Repeating jobs that survive Redis losing them (issue 25). BullMQ keeps a job scheduler only in
 * Redis: a FLUSHALL, a restart without persistence or a failover to an empty replica drops the
 * broadcast tick, the announcements, point expiry and hold timeouts, and nothing created them again
 * but a restart. Declared through `repeatEvery`, a scheduler is remembered here and re-created when
 * it is missing: checked every few seconds, and at once when a watched connection reconnects.
 *
 * Upserting an existing scheduler with the same interval changes nothing, so several processes
 * declaring and re-creating the same one still give one schedule.
 */
import type { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { incident } from '../shared/incidents.js';

interface Declared {
  queue: Queue;
  id: string;
  every: number;
  template: { name: string; data?: unknown; opts?: Omit<JobsOptions, 'jobId' | 'repeat' | 'delay'> };
}

const declared = new Map<string, Declared>();
const keyOf = (queue: Queue, id: string) => `${queue.qualifiedName}\u0000${id}`;

/** Creates (or updates) the scheduler now and keeps it re-created while the queue is open. */
export async function repeatEvery(queue: Queue, id: string, every: number, template: Declared['template']): Promise<void> {
  await queue.upsertJobScheduler(id, { every }, template as never);
  declared.set(keyOf(queue, id), { queue, id, every, template });
}

/** Removes the scheduler and stops re-creating it. */
export async function stopRepeating(queue: Queue, id: string): Promise<void> {
  declared.delete(keyOf(queue, id));
  await queue.removeJobScheduler(id);
}

/** Re-creates every declared scheduler Redis no longer has; answers how many it re-created. */
export async function recreateMissing(logger: Logger): Promise<number> {
  let recreated = 0;
  for (const [key, d] of declared) {
    if (d.queue.closing) {
      declared.delete(key);
      continue;
    }
    if (await d.queue.getJobScheduler(d.id)) continue;
    await d.queue.upsertJobScheduler(d.id, { every: d.every }, d.template as never);
    recreated++;
    logger.warn({ queue: d.queue.name, scheduler: d.id }, 'repeating job was missing from Redis: created again');
  }
  return recreated;
}

export interface RepeatingWatch {
  close(): void;
}

/**
 * Checks every `everyMs` (5 s) and whenever one of `connections` becomes ready again. A failed
 * check (Redis away) counts into the 'redis' incident and is tried at the next turn.
 */
export function watchRepeatingJobs(deps: { logger: Logger; connections?: Redis[]; everyMs?: number }): RepeatingWatch {
  let running: Promise<unknown> | undefined;
  const check = () => {
    running ??= recreateMissing(deps.logger)
      .catch((error: unknown) => incident(deps.logger, 'redis').fail(error, { via: 'repeating jobs' }))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(check, deps.everyMs ?? 5_000);
  timer.unref();
  const onReady = () => check();
  for (const c of deps.connections ?? []) c.on('ready', onReady);
  return {
    close() {
      clearInterval(timer);
      for (const c of deps.connections ?? []) c.off('ready', onReady);
    },
  };
}
