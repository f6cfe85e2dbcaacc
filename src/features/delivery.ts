/**
 * Delivery: one send rate per channel in Redis (jobs/rate-gate.ts), shared by the outbox sender
 * (replies first) and the broadcast lanes. The worker role runs both; other roles only kick a
 * broadcast's fan-out onto the queue.
 */
import { createChannelRegistry, type ChannelAdapter } from '../channels/channel.js';
import { createChannelGate } from '../jobs/rate-gate.js';
import { createOutboxSender, DEFAULT_RATES, type OutboxSender } from '../jobs/outbox/sender.js';
import { createBroadcastKicker, startBroadcastWorker } from '../jobs/broadcasts/worker.js';
import type { Core } from './feature.js';

export interface Delivery {
  /** The in-process outbox sender (worker role). */
  sender?: OutboxSender;
  /** Starts a broadcast's fan-out now if it is due. */
  kick(broadcastId: string): Promise<void>;
}

export async function startDelivery(core: Core, adapters: ChannelAdapter[]): Promise<Delivery> {
  const { config, sql, redis, logger, i18n, life } = core;
  if (!core.runs.worker) {
    const kicker = createBroadcastKicker({ connection: redis.bullmq, prefix: redis.prefix });
    life.add('broadcast kicker', kicker.close);
    return { kick: kicker.kick };
  }
  const gate = createChannelGate({ redis: redis.client, prefix: redis.prefix, rates: { telegram: { perSecond: config.TELEGRAM_RATE_PER_SECOND } } });
  const sender = await createOutboxSender({
    sql,
    connection: redis.bullmq,
    channels: createChannelRegistry(adapters),
    rates: DEFAULT_RATES(config.TELEGRAM_RATE_PER_SECOND),
    logger,
    gate,
    prefix: redis.prefix,
  });
  life.add('outbox sender', sender.close);
  const broadcastWorker = await startBroadcastWorker({ sql, connection: redis.bullmq, prefix: redis.prefix, channels: createChannelRegistry(adapters), gate, i18n, logger });
  life.add('broadcast worker', broadcastWorker.close);
  return { sender, kick: broadcastWorker.kick };
}
