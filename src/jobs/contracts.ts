import { z } from 'zod';

/**
 * Queue names and job payloads, in one place. BullMQ job ids must not contain ':' nor be all
 * digits, so ids built here use '-' and a letter prefix.
 */
export const QUEUES = {
  /** Interactive replies from the outbox. */
  outbox: 'outbox',
  /** Broadcast fan-out and per-recipient delivery: always behind replies. */
  broadcast: 'broadcast',
  /** Receipt photo processing (QR, OCR, duplicate checks). */
  receipts: 'receipts',
  /** Ledger upkeep: lot expiry, hold timeouts. */
  ledger: 'ledger',
  /** WhatsApp sends when the WhatsApp client runs in its own process. */
  whatsappOut: 'whatsapp-out',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** The outbox has one queue per channel, so each gets the channel's own limiter. */
export const outboxQueueName = (channel: string): string => `${QUEUES.outbox}-${channel}`;

/** One outbox row in one schedule (`generation` changes when the row is rescheduled). */
export const OutboxJob = z.object({ outboxId: z.string(), generation: z.number().int().min(0).default(0) });
export type OutboxJob = z.infer<typeof OutboxJob>;

export const BroadcastJob = z.object({ broadcastId: z.string(), deliveryId: z.string().optional() });
export type BroadcastJob = z.infer<typeof BroadcastJob>;

export const ReceiptJob = z.object({ receiptId: z.string() });
export type ReceiptJob = z.infer<typeof ReceiptJob>;

export const LedgerJob = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('expire-lots') }),
  z.object({ kind: z.literal('void-expired-holds') }),
]);
export type LedgerJob = z.infer<typeof LedgerJob>;

/** A BullMQ-safe job id from parts: `o-<uuid>` style, never containing ':'. */
export const jobId = (prefix: string, ...parts: string[]): string => [prefix, ...parts].join('-').replaceAll(':', '_');
