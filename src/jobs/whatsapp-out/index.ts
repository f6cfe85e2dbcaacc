/**
 * The `whatsapp-out` queue, both ends: `createWhatsAppRemote` (ROLE=web or ROLE=worker with
 * WHATSAPP_ENABLED=true) hands sends to the WhatsApp process and reads the status it publishes;
 * `startWhatsAppOutWorker` (in the WhatsApp process) sends what the queue brings through the local
 * adapter. queue.ts says how delivery stays exactly-once across the hand-over.
 */
import type { Redis } from 'ioredis';
import type { Sql } from '../../db/sql.js';
import { createStatusBoard, remoteControl, whatsappReadiness, type WhatsAppControl } from '../../channels/whatsapp/control.js';
import { createQueuedWhatsAppAdapter, type QueuedWhatsAppAdapter } from './queue.js';

export { startWhatsAppOutWorker, createQueuedWhatsAppAdapter, type QueuedWhatsAppAdapter } from './queue.js';

export interface WhatsAppRemote {
  adapter: QueuedWhatsAppAdapter;
  control: WhatsAppControl;
  readiness: ReturnType<typeof whatsappReadiness>;
  stop(): Promise<void>;
}

export function createWhatsAppRemote(deps: { sql: Sql; queueConnection: () => Redis; queuePrefix?: string }): WhatsAppRemote {
  const adapter = createQueuedWhatsAppAdapter({ connection: deps.queueConnection, ...(deps.queuePrefix ? { prefix: deps.queuePrefix } : {}) });
  const control = remoteControl(createStatusBoard(deps.sql));
  return { adapter, control, readiness: whatsappReadiness(control), stop: () => adapter.close() };
}
