/**
 * The channels of this process: the adapters the senders use (web chat always; Telegram with a
 * token; WhatsApp as the local client in the whatsapp role, or handed to that process through the
 * whatsapp-out queue elsewhere), and `listen`, which connects the inbound side to the engine.
 */
import type { ChannelAdapter } from '../channels/channel.js';
import { createWebAdapter } from '../channels/web/adapter.js';
import { createTelegramChannel, type TelegramInbound, type TelegramInboundDeps } from '../channels/telegram/index.js';
import { createWhatsAppClient, imageLoader, type WhatsAppClientRuntime, type WhatsAppControl } from '../channels/whatsapp/index.js';
import { createWhatsAppRemote, startWhatsAppOutWorker } from '../jobs/whatsapp-out/index.js';
import type { DialogEngine } from '../dialog/engine.js';
import type { ServerDeps } from '../http/server.js';
import type { Core } from './feature.js';

export interface Channels {
  adapters: ChannelAdapter[];
  whatsappControl?: WhatsAppControl;
  readiness?: ServerDeps['readinessDetails'];
  /** Connects inbound traffic to the engine: the Telegram bot (its webhook routes, when any). */
  listen(engine: DialogEngine, telegram: Omit<TelegramInboundDeps, 'receive'>): { telegram?: TelegramInbound };
  /** Starts what takes inbound traffic (after the HTTP listener: a webhook is told where to deliver). */
  start(inbound: { telegram?: TelegramInbound }, engine: DialogEngine): Promise<void>;
}

export function createChannels(core: Core): Channels {
  const { config, sql, logger, i18n, participants, mediaStore, runs, life } = core;
  const adapters: ChannelAdapter[] = [createWebAdapter({ sql })];
  const telegram = createTelegramChannel({ config, i18n, logger, loadMedia: async (key) => (await mediaStore.get(key)) ?? undefined });
  if (telegram) adapters.push(telegram.adapter);

  let whatsappClient: WhatsAppClientRuntime | undefined;
  let whatsappControl: WhatsAppControl | undefined;
  let readiness: ServerDeps['readinessDetails'];
  if (config.WHATSAPP_ENABLED && runs.whatsapp) {
    whatsappClient = createWhatsAppClient({
      config,
      sql,
      logger,
      i18n,
      localeOf: async (to) => {
        const p = await participants.findByIdentity(sql, { channel: 'whatsapp', externalId: to.externalId });
        return p ? participants.locale(sql, p) : undefined;
      },
      loadImage: imageLoader((key) => mediaStore.get(key)),
    });
    adapters.push(whatsappClient.adapter);
    ({ control: whatsappControl, readiness } = whatsappClient);
  } else if (config.WHATSAPP_ENABLED) {
    const remote = createWhatsAppRemote({ sql, queueConnection: core.redis.bullmq, queuePrefix: core.redis.prefix });
    life.add('whatsapp queue', remote.stop);
    adapters.push(remote.adapter);
    ({ control: whatsappControl, readiness } = remote);
  }

  return {
    adapters,
    ...(whatsappControl ? { whatsappControl } : {}),
    ...(readiness ? { readiness } : {}),
    listen(engine, telegramDeps) {
      return telegram && runs.web ? { telegram: telegram.listen({ receive: (inbound) => engine.receive(inbound), ...telegramDeps }) } : {};
    },
    async start(inbound, engine) {
      if (inbound.telegram) {
        await inbound.telegram.start();
        life.add('telegram', inbound.telegram.stop);
      }
      if (whatsappClient) {
        whatsappClient.start({ receive: (message) => engine.receive(message) });
        life.add('whatsapp', whatsappClient.stop);
        const outWorker = startWhatsAppOutWorker({
          connection: core.redis.bullmq(),
          prefix: core.redis.prefix,
          adapter: whatsappClient.adapter,
          logger,
          onUnreachable: (to, reason) => participants.markUnreachable(sql, to, reason),
        });
        life.add('whatsapp-out worker', outWorker.close);
      }
    },
  };
}
