/**
 * WhatsApp in its own process (ROLE=whatsapp): other processes hand outbound messages over through
 * the `whatsapp-out` queue, and the WhatsApp process sends them one at a time through its adapter
 * (which paces, caps and dedupes by key). Jobs are processed with concurrency 1, so each chat's order
 * holds.
 *
 * Order: replies, then notices, then broadcasts (BullMQ priorities), so a participant who writes in
 * during a big broadcast is answered next. A pause that concerns everything (not connected, the pace,
 * the whole daily cap) holds the queue; a broadcast turned away by its share of the cap goes back to
 * its owner alone, and replies keep flowing.
 *
 * Delivery guarantee: the handing-over adapter answers `sent` only when the WhatsApp process has
 * sent the message (the job's result), so the owner (the outbox sender, the broadcast lanes) marks
 * its row delivered only then. Without a confirmation in time (the process is down, busy, or Redis
 * lost the job) the job is taken back if it has not started and the owner is told to come back
 * (`rate_limited`, no attempt spent); the row stays undelivered in Postgres and is handed over
 * again. A re-handed message with a key is sent once: the WhatsApp process answers it from its sent
 * ledger (sent-ledger.ts). Redis holds no message that Postgres does not also hold as undelivered.
 */
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { z } from 'zod';
import type { ChannelAdapter } from '../../channels/channel.js';
import type { ChannelAddress, Outbound, SendResult } from '../../shared/messages.js';
import { QUEUES, jobId } from '../contracts.js';
import type { Logger } from '../../shared/logger.js';
import type { WhatsAppSendMeta, WhatsAppSendResult } from '../../channels/whatsapp/adapter.js';
import { reportErrorsOf, quietErrorsOf } from '../../shared/incidents.js';

const ChoiceSchema = z.object({ label: z.string(), value: z.string() });

export const WhatsAppOutJob = z.object({
  to: z.object({ channel: z.literal('whatsapp'), externalId: z.string().min(1), chatId: z.string().min(1) }),
  message: z.object({
    text: z.string(),
    choices: z.array(z.array(ChoiceSchema)).optional(),
    requestPhone: z.object({ label: z.string() }).optional(),
    image: z.object({ url: z.string().optional(), mediaKey: z.string().optional() }).optional(),
    answer: z.literal('free').optional(),
  }),
  kind: z.enum(['reply', 'notice', 'broadcast']).optional(),
  /** The sender's message key (`outbox:<id>`): the WhatsApp process sends a key once. */
  key: z.string().min(1).optional(),
});
export type WhatsAppOutJob = z.infer<typeof WhatsAppOutJob>;

/** What a whatsapp-out job returns: the send's outcome, for the process that handed it over. */
const JobOutcome = z.discriminatedUnion('status', [
  z.object({ status: z.literal('sent'), providerMessageId: z.string().optional() }),
  z.object({ status: z.literal('rate_limited'), retryAfterMs: z.number().min(0) }),
  z.object({ status: z.literal('unreachable'), reason: z.string() }),
  z.object({ status: z.literal('failed'), reason: z.string(), retryable: z.boolean() }),
]);

/** Lower is sooner (BullMQ); every job has one, since jobs without a priority would go first. */
export const WHATSAPP_PRIORITY = { reply: 1, notice: 2, broadcast: 10 } as const;

export type QueuedSendMeta = WhatsAppSendMeta;

/** The adapter other processes use: `send` answers once the WhatsApp process has sent (or not). */
export interface QueuedWhatsAppAdapter extends ChannelAdapter {
  send(to: ChannelAddress, message: Outbound, meta?: QueuedSendMeta): Promise<SendResult>;
  close(): Promise<void>;
}

export interface QueuedWhatsAppAdapterDeps {
  /** Makes a BullMQ connection; called twice (the queue, and the blocking event reader). */
  connection: () => ConnectionOptions;
  prefix?: string;
  /**
   * How long a send waits for the WhatsApp process to confirm before the job is taken back.
   * Keep it below the owners' stale-claim time (60 s), or a slow send is handed over twice.
   */
  confirmTimeoutMs?: number;
  /** After an unconfirmed hand-over, when the owner should try again. */
  retryAfterMs?: number;
}

export function createQueuedWhatsAppAdapter(deps: QueuedWhatsAppAdapterDeps): QueuedWhatsAppAdapter {
  const prefix = deps.prefix ? { prefix: deps.prefix } : {};
  const queue = new Queue(QUEUES.whatsappOut, { connection: deps.connection(), ...prefix });
  const events = new QueueEvents(QUEUES.whatsappOut, { connection: deps.connection(), ...prefix });
  quietErrorsOf(queue);
  quietErrorsOf(events);
  const confirmMs = deps.confirmTimeoutMs ?? 45_000;
  const later: SendResult = { status: 'rate_limited', retryAfterMs: deps.retryAfterMs ?? 10_000 };

  /** The job's outcome, `undefined` when none arrived in time (or Redis no longer has the job). */
  async function outcomeOf(job: Job, ttl: number): Promise<SendResult | undefined> {
    try {
      const value: unknown = await job.waitUntilFinished(events, ttl);
      const parsed = JobOutcome.safeParse(value);
      if (parsed.success) return parsed.data;
      // A job of the previous version returned `{ providerMessageId }` once sent.
      return { status: 'sent', ...(typeof (value as { providerMessageId?: unknown })?.providerMessageId === 'string' ? { providerMessageId: (value as { providerMessageId: string }).providerMessageId } : {}) };
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      if (/timed out before finishing|Missing key/i.test(message)) return undefined;
      return { status: 'failed', reason: `whatsapp process: ${message}`.slice(0, 300), retryable: true };
    }
  }

  return {
    id: 'whatsapp',
    async send(to, message, meta): Promise<SendResult> {
      const kind = meta?.kind ?? 'reply';
      const data: WhatsAppOutJob = {
        to: { channel: 'whatsapp', externalId: to.externalId, chatId: to.chatId },
        message,
        kind,
        ...(meta?.key ? { key: meta.key } : {}),
      };
      let job: Job;
      try {
        await events.waitUntilReady();
        // One job per hand-over: dedupe is the WhatsApp process's sent ledger, which outlives Redis.
        job = await queue.add('send', WhatsAppOutJob.parse(data), {
          jobId: jobId('wa', randomUUID()),
          priority: WHATSAPP_PRIORITY[kind],
          attempts: 1,
          removeOnComplete: { age: 3600, count: 10_000 },
          removeOnFail: { age: 24 * 3600, count: 10_000 },
        });
      } catch (error) {
        return { status: 'failed', reason: `could not queue for WhatsApp: ${(error as Error).message}`, retryable: true };
      }
      const outcome = await outcomeOf(job, confirmMs);
      if (outcome) return outcome;
      // Not confirmed in time: take the job back unless it is being sent right now.
      const removed = await job.remove().then(
        () => true,
        () => false,
      );
      if (removed) return later;
      // Being sent (or gone with Redis): its outcome comes within one paced send, or never.
      return (await outcomeOf(job, confirmMs)) ?? later;
    },
    close: async () => {
      await events.close();
      await queue.close();
    },
  };
}

export interface WhatsAppOutWorkerDeps {
  connection: ConnectionOptions;
  prefix?: string;
  adapter: { send(to: ChannelAddress, message: Outbound, meta?: WhatsAppSendMeta): Promise<WhatsAppSendResult | SendResult> };
  logger: Logger;
  /** The number is not on WhatsApp (or blocked us): stop sending to it. */
  onUnreachable?(to: ChannelAddress, reason: string): Promise<void>;
  /**
   * A queue-wide hold up to this long keeps the job queued until it ends; a longer one (the whole
   * daily cap) gives the message back to its owner instead. Default 60 s.
   */
  holdJobsUpToMs?: number;
}

export function startWhatsAppOutWorker(deps: WhatsAppOutWorkerDeps): { worker: Worker; close(): Promise<void> } {
  const log = deps.logger.child({ queue: QUEUES.whatsappOut });
  const holdUpTo = deps.holdJobsUpToMs ?? 60_000;
  // Queue-wide hold for rate limits: one WhatsApp number, one pace.
  const holder = new Queue(QUEUES.whatsappOut, { connection: deps.connection, ...(deps.prefix ? { prefix: deps.prefix } : {}) });
  const worker = new Worker(
    QUEUES.whatsappOut,
    async (job): Promise<SendResult> => {
      const parsed = WhatsAppOutJob.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`bad whatsapp-out job: ${parsed.error.message}`);
      const { to, message, kind, key } = parsed.data;
      const result = await deps.adapter.send(to, message, { ...(kind ? { kind } : {}), ...(key ? { key } : {}) });
      switch (result.status) {
        case 'sent':
          return { status: 'sent', ...(result.providerMessageId ? { providerMessageId: result.providerMessageId } : {}) };
        case 'rate_limited': {
          const later: SendResult = { status: 'rate_limited', retryAfterMs: result.retryAfterMs };
          // This message only (a broadcast over its share of the cap): back to its owner, no hold.
          if ('scope' in result && result.scope === 'message') return later;
          await holder.rateLimit(result.retryAfterMs);
          if (result.retryAfterMs > holdUpTo) return later;
          throw Worker.RateLimitError();
        }
        case 'unreachable':
          await deps.onUnreachable?.(to, result.reason).catch((error: unknown) => log.warn({ err: error }, 'onUnreachable failed'));
          return { status: 'unreachable', reason: result.reason };
        case 'failed':
          // Retries are the owner's (its attempts and backoff live with the row in Postgres).
          log.warn({ jobId: job.id, reason: result.reason }, 'whatsapp send failed');
          return { status: 'failed', reason: result.reason, retryable: result.retryable };
      }
    },
    {
      connection: deps.connection,
      ...(deps.prefix ? { prefix: deps.prefix } : {}),
      concurrency: 1,
      // Required for rate-limit holds; the adapter's pacer is the real (slower) pace.
      limiter: { max: 1, duration: 500 },
      // A paced send may wait up to the pacer's maxWaitMs before it goes out.
      lockDuration: 60_000,
    },
  );
  worker.on('failed', (job, error) => log.warn({ jobId: job?.id, err: error }, 'whatsapp-out job failed'));
  reportErrorsOf(holder, log, 'redis');
  reportErrorsOf(worker, log, 'redis');
  return {
    worker,
    close: async () => {
      await worker.close();
      await holder.close();
    },
  };
}
