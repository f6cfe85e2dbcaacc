/**
 * Delivers outbox rows through BullMQ: one queue per channel (`outbox-<channel>`), its limiter the
 * channel's overall rate; replies and notices get a higher BullMQ priority than broadcast traffic.
 *
 * Per chat, only the head row (oldest undelivered; replies/notices before broadcasts) has a job, and
 * the next row is scheduled when the head settles, so a chat's messages go out one by one, in order,
 * paced by the channel's per-chat rate (at most `burst` messages in any `burst / perChatPerSecond` s).
 *
 * Each row is claimed ('sending') in Postgres before `adapter.send` and marked 'sent' right after.
 * A process that dies between the two leaves a 'sending' row; the sweeper sends it again once the
 * claim is older than `staleClaimMs`: the unavoidable at-least-once window is the duration of one
 * `send` call plus one UPDATE. Jobs are keyed `o-<row>-g<generation>`, so re-adding a job that is
 * already queued is a no-op and a rescheduled row gets a fresh job.
 *
 * Pokes arrive through `poke()` (the dialog engine's after-commit hook in this process) or Postgres
 * NOTIFY: sent after commit by a process without a sender (./poke.ts), and on commit of notices
 * queued through enqueueOutbound; the sweeper re-enqueues whatever Postgres still shows
 * undelivered, e.g. after a restart, a lost poke, or when Redis lost its data.
 *
 * Results: `rate_limited` pauses the channel for `retryAfterMs` and reschedules the row without
 * counting an attempt; `unreachable` marks the chat identity unreachable and stops everything still
 * waiting for it; other failures retry with exponential backoff up to `maxAttempts`, then 'failed'.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Sql } from '../../db/sql.js';
import type { Logger } from '../../shared/logger.js';
import type { ChannelAdapter, ChannelRegistry } from '../../channels/channel.js';
import type { ChannelId, SendResult } from '../../dialog/types.js';
import { OutboxJob, jobId, outboxQueueName } from '../contracts.js';
import * as outbox from '../../db/outbox/repo.js';
import { pruneInbox } from '../../db/participants/conversations-repo.js';
import * as participantsRepo from '../../db/participants/participants-repo.js';
import type { ChannelGate } from '../rate-gate.js';
import { reportErrorsOf } from '../../shared/incidents.js';
import { reportDbFailure } from '../../db/availability.js';

export interface ChannelRate {
  /** Messages per second over the whole channel (BullMQ limiter); undefined = unlimited. */
  perSecond?: number;
  /** Per chat: at most `burst` messages in any window of `burst / perChatPerSecond` seconds. */
  perChatPerSecond?: number;
  burst?: number;
  /** Parallel sends of this channel in one process. */
  concurrency?: number;
}

export type ChannelRates = Partial<Record<ChannelId, ChannelRate>>;

export interface OutboxSenderDeps {
  sql: Sql;
  /** Factory of BullMQ connections (`RedisConnections.bullmq`); the sender closes what it made. */
  connection: () => Redis;
  /** BullMQ key prefix (tests use their own). */
  prefix?: string;
  channels: ChannelRegistry;
  rates?: ChannelRates;
  logger: Logger;
  /** How often the sweeper looks for undelivered rows (ms). */
  sweepIntervalMs?: number;
  /** A 'sending' row older than this is taken as abandoned by a crashed process and re-sent. */
  staleClaimMs?: number;
  /** Attempts for retryable failures before a row is marked failed. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt. */
  backoffMs?: number;
  /**
   * Shared per-channel send rate (src/jobs/broadcasts/channel-gate.ts): with it, replies and
   * broadcast deliveries draw on one platform limit and replies take the next free slot first.
   */
  gate?: Pick<ChannelGate, 'acquire' | 'pause'>;
}

export interface OutboxSender {
  /** Schedules delivery for one chat now (or, without arguments, sweeps everything undelivered). */
  poke(chat?: { channel: ChannelId; chatId: string }): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_RATES = (telegramPerSecond: number): ChannelRates => ({
  telegram: { perSecond: telegramPerSecond, perChatPerSecond: 1, burst: 3, concurrency: 8 },
  whatsapp: { perSecond: 1, perChatPerSecond: 0.5, burst: 2, concurrency: 1 },
  web: { concurrency: 16 },
});

const PRIORITY = { reply: 1, notice: 2, broadcast: 10 } as const;

/**
 * BullMQ's limiter counts fixed windows, so `{max: 30, duration: 1000}` allows up to 60 sends in a
 * second that straddles two windows. Small windows of one send each spread the traffic evenly:
 * then no one-second span holds more than `perSecond + 1`.
 */
export function limiterFor(perSecond: number): { max: number; duration: number } {
  if (perSecond <= 50) return { max: 1, duration: Math.max(1, Math.floor(1000 / perSecond)) };
  return { max: Math.ceil(perSecond / 50), duration: 20 };
}


export async function createOutboxSender(deps: OutboxSenderDeps): Promise<OutboxSender> {
  const { sql, logger } = deps;
  const rates = deps.rates ?? DEFAULT_RATES(30);
  const staleClaimMs = deps.staleClaimMs ?? 60_000;
  const maxAttempts = deps.maxAttempts ?? 6;
  const backoffMs = deps.backoffMs ?? 2_000;
  const prefix = deps.prefix ?? 'punkto';
  const connections: Redis[] = [];
  const connect = () => {
    const c = deps.connection();
    connections.push(c);
    return c;
  };
  const queues = new Map<ChannelId, Queue>();
  const workers = new Map<ChannelId, Worker>();
  let closed = false;

  for (const adapter of deps.channels.list()) {
    const rate = rates[adapter.id] ?? {};
    const name = outboxQueueName(adapter.id);
    const queue = new Queue(name, { connection: connect(), prefix });
    reportErrorsOf(queue, logger, 'redis');
    queues.set(adapter.id, queue);
    const worker: Worker = new Worker(name, (job: Job) => process(adapter, worker, job), {
      connection: connect(),
      prefix,
      concurrency: rate.concurrency ?? 4,
      ...(rate.perSecond ? { limiter: limiterFor(rate.perSecond) } : {}),
    });
    reportErrorsOf(worker, logger, 'redis');
    worker.on('failed', (job, err) => logger.warn({ err, jobId: job?.id }, 'outbox job failed'));
    workers.set(adapter.id, worker);
  }

  /** How long a chat must wait before its next message, from its recent sends. */
  async function pacingDelay(channel: ChannelId, chatId: string): Promise<number> {
    const rate = rates[channel];
    if (!rate?.perChatPerSecond) return 0;
    const burst = Math.max(1, rate.burst ?? 1);
    const windowMs = (burst * 1000) / rate.perChatPerSecond;
    const recent = await outbox.recentSends(sql, channel, chatId, burst);
    if (recent.length < burst) return 0;
    return Math.max(0, recent[burst - 1]!.getTime() + windowMs - Date.now());
  }

  async function addJob(row: Pick<outbox.OutboxRow, 'id' | 'generation' | 'kind' | 'channel'>, delayMs = 0): Promise<void> {
    const queue = queues.get(row.channel);
    if (!queue || closed) return;
    const data: OutboxJob = { outboxId: String(row.id), generation: row.generation };
    await queue.add('send', data, {
      jobId: jobId('o', String(row.id), `g${row.generation}`),
      priority: PRIORITY[row.kind],
      delay: Math.max(0, Math.round(delayMs)),
      removeOnComplete: true,
      removeOnFail: true,
    });
  }

  /** Schedules the chat's head row (if any and not already in flight). */
  async function scheduleChat(channel: ChannelId, chatId: string): Promise<void> {
    if (!queues.has(channel) || closed) return;
    const head = await outbox.headOfChat(sql, channel, chatId);
    if (!head || head.status !== 'pending') return;
    const due = head.notBefore ? head.notBefore.getTime() - Date.now() : 0;
    await addJob(head, Math.max(due, await pacingDelay(channel, chatId)));
  }

  async function process(adapter: ChannelAdapter, worker: Worker, job: Job): Promise<void> {
    const { outboxId, generation } = OutboxJob.parse(job.data);
    const id = Number(outboxId);
    const row = await outbox.getById(sql, id);
    if (!row || row.status !== 'pending' || row.generation !== generation) return;
    const head = await outbox.headOfChat(sql, row.channel, row.chatId);
    if (head && head.id !== row.id) return; // another row goes first; it schedules this one after
    const wait = Math.max(row.notBefore ? row.notBefore.getTime() - Date.now() : 0, await pacingDelay(row.channel, row.chatId));
    if (wait > 0) {
      const next = await outbox.delay(sql, id, new Date(Date.now() + wait));
      if (next !== undefined) await addJob({ ...row, generation: next }, wait);
      return;
    }
    // Wait for a channel slot before claiming: time spent waiting must not age the claim (a claim
    // older than staleClaimMs is re-sent by the sweeper).
    await deps.gate?.acquire(row.channel, row.kind === 'broadcast' ? 'broadcast' : 'reply');
    const claimed = await outbox.claim(sql, id, generation);
    if (!claimed) return;

    let result: SendResult;
    try {
      // The key names the row, not the attempt: a channel that dedupes (WhatsApp) sends a row once.
      result = await adapter.send({ channel: claimed.channel, externalId: claimed.externalId, chatId: claimed.chatId }, claimed.message, { key: `outbox:${id}`, kind: claimed.kind });
    } catch (error) {
      result = { status: 'failed', reason: (error as Error)?.message ?? String(error), retryable: true };
    }

    switch (result.status) {
      case 'sent':
        await outbox.markSent(sql, id, result.providerMessageId);
        await scheduleChat(claimed.channel, claimed.chatId);
        return;
      case 'rate_limited': {
        const ms = Math.max(result.retryAfterMs, 100);
        const next = await outbox.reschedule(sql, id, ms, false, 'rate limited');
        // The platform speaks for the whole bot: hold the channel back, not just this chat.
        await worker.rateLimit(ms);
        await deps.gate?.pause(claimed.channel, ms);
        await addJob({ ...claimed, generation: next }, ms);
        logger.info({ channel: claimed.channel, retryAfterMs: ms }, 'channel rate limited');
        return;
      }
      case 'unreachable':
        await sql.begin(async (tx) => {
          await outbox.markChatUnreachable(tx, claimed.channel, claimed.chatId, result.reason);
          await participantsRepo.markUnreachable(tx, claimed.channel, claimed.externalId, result.reason);
        });
        logger.info({ channel: claimed.channel, outboxId: id }, 'chat unreachable; its messages are stopped');
        return;
      case 'failed': {
        if (result.retryable && claimed.attempts + 1 < maxAttempts) {
          const ms = backoffMs * 2 ** claimed.attempts;
          const next = await outbox.reschedule(sql, id, ms, true, result.reason);
          await addJob({ ...claimed, generation: next }, ms);
        } else {
          await outbox.markFailed(sql, id, result.reason);
          logger.warn({ channel: claimed.channel, outboxId: id, reason: result.reason }, 'outbox message failed');
          await scheduleChat(claimed.channel, claimed.chatId);
        }
        return;
      }
    }
  }

  let lastPrune = 0;
  async function sweep(minAgeMs: number): Promise<void> {
    if (Date.now() - lastPrune > 3_600_000) {
      lastPrune = Date.now();
      // Platforms re-deliver within minutes to hours; two weeks of message ids is plenty to dedupe.
      await pruneInbox(sql, 14);
    }
    const released = await outbox.releaseStale(sql, staleClaimMs);
    if (released) logger.warn({ released }, 're-sending outbox rows abandoned mid-send');
    const heads = await outbox.dueHeads(sql, 1000, minAgeMs);
    for (const head of heads) {
      if (queues.has(head.channel)) await addJob(head, await pacingDelay(head.channel, head.chatId));
    }
  }

  const listener = await sql.listen(outbox.OUTBOX_NOTIFY_CHANNEL, (payload) => {
    const space = payload.indexOf(' ');
    const channel = payload.slice(0, space) as ChannelId;
    const chatId = payload.slice(space + 1);
    scheduleChat(channel, chatId).catch((err: unknown) => logger.warn({ err }, 'outbox poke failed'));
  });

  let sweeping: Promise<void> = sweep(0).catch((err: unknown) => reportDbFailure(logger, err, 'outbox sweep failed'));
  await sweeping;
  const timer = setInterval(() => {
    sweeping = sweep(2_000).catch((err: unknown) => reportDbFailure(logger, err, 'outbox sweep failed'));
  }, deps.sweepIntervalMs ?? 2_000);
  timer.unref();

  return {
    async poke(chat) {
      if (chat) await scheduleChat(chat.channel, chat.chatId);
      else await sweep(0);
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await sweeping;
      await listener.unlisten().catch(() => undefined);
      await Promise.all([...workers.values()].map((w) => w.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
