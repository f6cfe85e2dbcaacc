/**
 * WhatsApp in its own process (ROLE=whatsapp): other processes hand outbound messages over through
 * the `whatsapp-out` queue, and the WhatsApp process sends them one at a time through its adapter
 * (which paces and caps). Jobs are processed with concurrency 1, so each chat's order holds; a
 * paced, capped or disconnected send puts the whole queue on hold instead of burning attempts.
 */
import { Queue, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { z } from 'zod';
import type { ChannelAdapter } from '../channel.js';
import type { ChannelAddress, Outbound, SendResult } from '../../dialog/types.js';
import { QUEUES, jobId } from '../../jobs/contracts.js';
import type { Logger } from '../../shared/logger.js';
import type { WhatsAppSendMeta } from './adapter.js';

const ChoiceSchema = z.object({ label: z.string(), value: z.string() });

export const WhatsAppOutJob = z.object({
  to: z.object({ channel: z.literal('whatsapp'), externalId: z.string().min(1), chatId: z.string().min(1) }),
  message: z.object({
    text: z.string(),
    choices: z.array(z.array(ChoiceSchema)).optional(),
    requestPhone: z.object({ label: z.string() }).optional(),
    image: z.object({ url: z.string().optional(), mediaKey: z.string().optional() }).optional(),
  }),
  kind: z.enum(['reply', 'notice', 'broadcast']).optional(),
});
export type WhatsAppOutJob = z.infer<typeof WhatsAppOutJob>;

export interface QueuedSendMeta extends WhatsAppSendMeta {
  /** Stable id of the message (the outbox row): a retried hand-over is not queued twice. */
  key?: string;
}

/**
 * The adapter other processes use: `send` means "handed to the WhatsApp process". Delivery
 * problems found later there (number not on WhatsApp) reach `onUnreachable` in that process.
 */
export interface QueuedWhatsAppAdapter extends ChannelAdapter {
  send(to: ChannelAddress, message: Outbound, meta?: QueuedSendMeta): Promise<SendResult>;
  close(): Promise<void>;
}

export function createQueuedWhatsAppAdapter(deps: { connection: ConnectionOptions; prefix?: string }): QueuedWhatsAppAdapter {
  const queue = new Queue(QUEUES.whatsappOut, { connection: deps.connection, ...(deps.prefix ? { prefix: deps.prefix } : {}) });
  return {
    id: 'whatsapp',
    async send(to, message, meta): Promise<SendResult> {
      const data: WhatsAppOutJob = {
        to: { channel: 'whatsapp', externalId: to.externalId, chatId: to.chatId },
        message,
        ...(meta?.kind ? { kind: meta.kind } : {}),
      };
      try {
        const job = await queue.add('send', WhatsAppOutJob.parse(data), {
          ...(meta?.key ? { jobId: jobId('wa', meta.key) } : {}),
          attempts: 8,
          backoff: { type: 'exponential', delay: 30_000 },
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: 5000 },
        });
        return { status: 'sent', providerMessageId: `queued-${job.id}` };
      } catch (error) {
        return { status: 'failed', reason: `could not queue for WhatsApp: ${(error as Error).message}`, retryable: true };
      }
    },
    close: () => queue.close(),
  };
}

export interface WhatsAppOutWorkerDeps {
  connection: ConnectionOptions;
  prefix?: string;
  adapter: { send(to: ChannelAddress, message: Outbound, meta?: WhatsAppSendMeta): Promise<SendResult> };
  logger: Logger;
  /** The number is not on WhatsApp (or blocked us): stop sending to it. */
  onUnreachable?(to: ChannelAddress, reason: string): Promise<void>;
}

export function startWhatsAppOutWorker(deps: WhatsAppOutWorkerDeps): { worker: Worker; close(): Promise<void> } {
  const log = deps.logger.child({ queue: QUEUES.whatsappOut });
  // Queue-wide hold for rate limits: one WhatsApp number, one pace.
  const holder = new Queue(QUEUES.whatsappOut, { connection: deps.connection, ...(deps.prefix ? { prefix: deps.prefix } : {}) });
  const worker = new Worker(
    QUEUES.whatsappOut,
    async (job) => {
      const parsed = WhatsAppOutJob.safeParse(job.data);
      if (!parsed.success) throw new UnrecoverableError(`bad whatsapp-out job: ${parsed.error.message}`);
      const { to, message, kind } = parsed.data;
      const result = await deps.adapter.send(to, message, kind ? { kind } : undefined);
      switch (result.status) {
        case 'sent':
          return { providerMessageId: result.providerMessageId ?? null };
        case 'rate_limited':
          await holder.rateLimit(result.retryAfterMs);
          throw Worker.RateLimitError();
        case 'unreachable':
          await deps.onUnreachable?.(to, result.reason).catch((error: unknown) => log.warn({ err: error }, 'onUnreachable failed'));
          throw new UnrecoverableError(`unreachable: ${result.reason}`);
        case 'failed':
          if (!result.retryable) throw new UnrecoverableError(result.reason);
          throw new Error(result.reason);
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
  worker.on('failed', (job, error) => log.warn({ jobId: job?.id, err: error }, 'whatsapp send failed'));
  return {
    worker,
    close: async () => {
      await worker.close();
      await holder.close();
    },
  };
}
