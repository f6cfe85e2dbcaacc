/** Sends one claimed broadcast delivery and records what the platform answered. */
import type { Sql } from '../../db/sql.js';
import type { Logger } from '../../shared/logger.js';
import type { ChannelAdapter } from '../../channels/channel.js';
import type { Outbound, SendResult } from '../../dialog/types.js';
import type { I18n, Locale } from '../../i18n/index.js';
import * as deliveries from '../../db/broadcasts/deliveries-repo.js';
import * as participantsRepo from '../../db/participants/participants-repo.js';
import { renderFor, retryDelayMs, type Broadcast } from '../../domain/broadcasts/index.js';
import { templateTranslator } from '../../services/broadcasts/index.js';
import type { ChannelGate } from '../rate-gate.js';
import { reportDbFailure } from '../../db/availability.js';

export interface DeliverDeps {
  sql: Sql;
  gate: ChannelGate;
  i18n: I18n;
  logger: Logger;
  /** Attempts for retryable failures before a delivery counts as failed. */
  maxAttempts: number;
  /** The broadcast and its program's default language (cached by the lanes). */
  broadcastOf(id: string): Promise<{ b: Broadcast; programDefault: Locale } | undefined>;
  /** Records a sent delivery (batched by the lanes, held until the database takes it). */
  markSent(id: number, providerMessageId: string | undefined): void;
  /** Claims whose outcome the database did not take: back to the queue once it answers. */
  giveBack(ids: number[]): void;
}

function render(deps: DeliverDeps, entry: { b: Broadcast; programDefault: Locale }, d: deliveries.ClaimedDelivery): Outbound | undefined {
  return renderFor(entry.b, d, entry.programDefault, templateTranslator(deps.i18n.t(d.locale), d.locale));
}

export async function deliverOne(deps: DeliverDeps, adapter: ChannelAdapter, d: deliveries.ClaimedDelivery): Promise<void> {
  const { sql, logger } = deps;
  try {
    const entry = await deps.broadcastOf(d.broadcastId);
    const message = entry && render(deps, entry, d);
    if (!message) {
      await deliveries.markFinal(sql, d.id, 'failed', 'no text for this recipient');
      return;
    }
    let result: SendResult;
    try {
      // The key names the delivery: a channel that dedupes (WhatsApp) sends it once even if a
      // crash makes us hand it over again.
      result = await adapter.send({ channel: d.channel, externalId: d.externalId, chatId: d.chatId }, message, {
        key: `broadcast:${d.id}`,
        kind: 'broadcast',
      });
    } catch (error) {
      result = { status: 'failed', reason: error instanceof Error ? error.message : String(error), retryable: true };
    }
    switch (result.status) {
      case 'sent':
        deps.markSent(d.id, result.providerMessageId);
        return;
      case 'rate_limited':
        // The whole channel waits, not only this row; the row keeps its place without an attempt.
        if (deps.gate.hasRate(d.channel)) await deps.gate.pause(d.channel, result.retryAfterMs);
        await deliveries.requeue(sql, d.id, deps.gate.hasRate(d.channel) ? 0 : result.retryAfterMs, false, 'rate limited');
        return;
      case 'unreachable':
        await sql.begin(async (tx) => {
          await deliveries.markFinal(tx, d.id, 'unreachable', result.reason);
          await participantsRepo.markUnreachable(tx, d.channel, d.externalId, result.reason);
        });
        return;
      case 'failed':
        if (result.retryable && d.attempts + 1 < deps.maxAttempts) {
          await deliveries.requeue(sql, d.id, retryDelayMs(d.attempts + 1), true, result.reason);
        } else {
          await deliveries.markFinal(sql, d.id, 'failed', result.reason);
        }
        return;
    }
  } catch (error) {
    // Not sent (a send is recorded by markSent): the row may be sent again, so it goes back.
    reportDbFailure(logger, error, 'broadcast: could not record a delivery', { deliveryId: d.id });
    deps.giveBack([d.id]);
  }
}
