/**
 * Sends broadcast deliveries: one lane per channel, in every worker process. A lane claims a small
 * batch of queued rows (FOR UPDATE SKIP LOCKED, so several processes share the work), takes a send
 * slot from the channel gate for each, sends, and marks the row once the platform answered (sent
 * marks are batched every `markEveryMs`, 10 ms by default).
 *
 * Exactly once, as far as a platform without idempotency keys allows: a row is sent only by the
 * lane that claimed it and is never sent again once marked. On shutdown the lane stops taking
 * slots, lets sends in flight finish and marks them, and puts unsent claims back. After a hard kill
 * the claims left behind are queued again once stale (`staleClaimMs`); only a send that was on the
 * wire at the moment of the kill, or answered in the last mark window, can then arrive twice.
 *
 * Telegram: the shared gate paces the whole channel (replies first); a broadcast sends one message
 * per chat, and waits ~1.5 s for a chat whose conversation has a reply pending or sent in the last
 * second, so the per-chat limit (~1/s) holds next to the replies too. WhatsApp: one at a time, paced and
 * capped by the adapter (`kind: 'broadcast'` counts against the broadcast share of the daily cap).
 */
import type { Sql } from '../../db/sql.js';
import type { Logger } from '../../shared/logger.js';
import type { ChannelAdapter, ChannelRegistry } from '../../channels/channel.js';
import type { ChannelId } from '../../dialog/types.js';
import type { I18n, Locale } from '../../i18n/index.js';
import * as repo from '../../db/broadcasts/repo.js';
import * as deliveries from '../../db/broadcasts/deliveries-repo.js';
import * as programsRepo from '../../db/programs/repo.js';
import type { Broadcast } from '../../domain/broadcasts/index.js';
import { deliverOne } from './deliver-one.js';
import type { ChannelGate } from '../rate-gate.js';
import { reportDbFailure } from '../../db/availability.js';
import { incident } from '../../shared/incidents.js';
import { createDeliveryMarks } from './delivery-marks.js';

export interface DeliveryOptions {
  /** Sends in flight at once per lane. */
  concurrency?: Partial<Record<ChannelId, number>>;
  /** A claim older than this is taken as left by a dead process and queued again (ms). */
  staleClaimMs?: number;
  /** Attempts for retryable failures before a delivery counts as failed. */
  maxAttempts?: number;
  /** How often an idle lane looks for work (ms). */
  idleMs?: number;
  /** Sent marks are written together every this many ms (0: one UPDATE per send). */
  markEveryMs?: number;
  /** A sent mark the database did not take is written again after this many ms. */
  markRetryMs?: number;
}

export interface DeliveryDeps {
  sql: Sql;
  channels: ChannelRegistry;
  gate: ChannelGate;
  i18n: I18n;
  logger: Logger;
  options?: DeliveryOptions;
}

export interface DeliveryLanes {
  /** Wake idle lanes now (a broadcast started). */
  poke(): void;
  /** Stops taking work, waits for sends in flight, returns unsent claims to the queue. */
  close(): Promise<void>;
  /** Claims of dead processes back to the queue (the tick calls it). */
  releaseStale(): Promise<number>;
}

const DEFAULT_CONCURRENCY: Record<ChannelId, number> = { telegram: 64, whatsapp: 1, web: 8 };

export function startDeliveryLanes(deps: DeliveryDeps): DeliveryLanes {
  const o = {
    staleClaimMs: deps.options?.staleClaimMs ?? 60_000,
    maxAttempts: deps.options?.maxAttempts ?? 5,
    idleMs: deps.options?.idleMs ?? 500,
    markEveryMs: deps.options?.markEveryMs ?? 10,
    markRetryMs: deps.options?.markRetryMs ?? 1_000,
  };
  const { sql, logger } = deps;
  let stopping = false;
  const wakers = new Set<() => void>();

  // Broadcast rows and program defaults, re-read every few seconds (a pause shows within one batch:
  // claims only take rows of sending broadcasts).
  const cache = new Map<string, { b: Broadcast; programDefault: Locale; at: number }>();
  async function broadcastOf(id: string) {
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < 5_000) return hit;
    const b = await repo.getById(sql, id);
    if (!b) return undefined;
    const entry = { b, programDefault: await programsRepo.programDefaultLocale(sql, b.programId), at: Date.now() };
    cache.set(id, entry);
    return entry;
  }

  // The active list is re-read at most every 250 ms, and never on a lane's way to its next slot:
  // while a refresh runs the lanes go on with the list they have (a slot not taken in time is lost).
  let active: { ids: string[]; at: number } = { ids: [], at: 0 };
  let refreshing: Promise<string[]> | undefined;
  function refreshActive(): Promise<string[]> {
    refreshing ??= repo.liveIds(sql)
      .then((ids) => {
        active = { ids, at: Date.now() };
        return active.ids;
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  }
  async function activeIds(): Promise<string[]> {
    if (Date.now() - active.at < 250) return active.ids;
    if (active.at === 0) return refreshActive();
    void refreshActive().catch((error: unknown) => reportDbFailure(logger, error, 'broadcast: could not read active broadcasts'));
    return active.ids;
  }

  // Sent marks and outcomes the database did not take (delivery-marks.ts): held and written again
  // until it does, so a lost connection cannot make a sent row look unsent.
  const marks = createDeliveryMarks({ sql, logger, everyMs: o.markEveryMs, retryMs: o.markRetryMs });

  const idle = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(wake, ms);
      function wake() {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      }
      wakers.add(wake);
    });

  const deliver = (adapter: ChannelAdapter, d: deliveries.ClaimedDelivery) =>
    deliverOne({ ...deps, maxAttempts: o.maxAttempts, broadcastOf, markSent: marks.markSent, giveBack: marks.giveBack }, adapter, d);

  async function lane(adapter: ChannelAdapter): Promise<void> {
    const channel = adapter.id;
    // Enough sends in flight that a slow answer (~125 ms at 1,000/s) does not leave slots unused.
    const rate = deps.gate.perSecond(channel);
    const concurrency = deps.options?.concurrency?.[channel] ?? Math.max(DEFAULT_CONCURRENCY[channel], rate && channel === 'telegram' ? Math.ceil(rate / 8) : 0);
    const inflight = new Set<Promise<void>>();
    // About 0.2 s of sending per claim: a pause or cancel takes effect within that, and a kill
    // leaves few claims to wait out as stale.
    const perSecond = deps.gate.perSecond(channel);
    const claimSize = perSecond ? Math.min(200, Math.max(5, Math.ceil(perSecond / 5))) : Math.max(2, concurrency * 2);
    /**
     * The next rows ready to send: claimed, muted ones closed, chats in a conversation put back for
     * a moment. All of it runs while the previous batch is being sent, so the lane goes from one
     * batch to the next without waiting for the database.
     */
    const claimNext = async (): Promise<deliveries.ClaimedDelivery[]> => {
      let batch: deliveries.ClaimedDelivery[] = [];
      for (const id of await activeIds()) {
        batch = await deliveries.claim(sql, id, channel, claimSize);
        if (batch.length) break;
      }
      if (!batch.length) return [];
      const muted = batch.filter((d) => d.muted);
      for (const d of muted) await deliveries.markFinal(sql, d.id, 'opted_out', 'muted');
      // Someone chatting with the bot right now gets the broadcast a moment later, after the replies.
      const busy = await deliveries.busyChats(sql, channel, batch.filter((d) => !d.muted).map((d) => d.chatId), 1_000).catch(() => new Set<string>());
      for (const d of batch) if (!d.muted && busy.has(d.chatId)) await deliveries.requeue(sql, d.id, 1_500, false);
      const toSend = batch.filter((d) => !d.muted && !busy.has(d.chatId));
      // A batch of only muted or busy rows: look again at once rather than idle.
      return toSend.length || batch.length === 0 ? toSend : claimNext();
    };
    // The next claim runs while the current batch is being sent, so the lane never stops taking
    // slots to wait for the database (a slot not taken in time is lost).
    let prefetched: Promise<deliveries.ClaimedDelivery[]> | undefined;
    while (!stopping) {
      let toSend: deliveries.ClaimedDelivery[] = [];
      try {
        toSend = await (prefetched ?? claimNext());
        prefetched = undefined;
      } catch (error) {
        prefetched = undefined;
        reportDbFailure(logger, error, 'broadcast: claim failed', { channel });
        await idle(o.idleMs);
        continue;
      }
      if (!toSend.length) {
        await idle(o.idleMs);
        continue;
      }
      if (!stopping) {
        prefetched = claimNext();
        prefetched.catch(() => undefined);
      }
      let i = 0;
      const broadcastId = toSend[0]?.broadcastId;
      let pausedFor = 0;
      while (i < toSend.length && !stopping) {
        while (inflight.size >= concurrency) await Promise.race(inflight);
        // Paused or cancelled meanwhile: the rest of the claim goes back.
        if (broadcastId && !(await activeIds()).includes(broadcastId)) break;
        const room = Math.min(concurrency - inflight.size, toSend.length - i);
        let granted = room;
        if (deps.gate.hasRate(channel)) {
          // Redis away: no slot, so no send; the lane waits and asks again (issue 25: it used to die here).
          const g = await deps.gate.take(channel, 'broadcast', room).catch((error: unknown) => {
            incident(logger, 'redis').fail(error, { via: 'broadcast rate gate' });
            return { granted: 0, waitMs: 500 };
          });
          if (!g.granted) {
            // A long platform pause: give the claims back rather than sit on them.
            if (g.waitMs > 5_000) {
              pausedFor = g.waitMs;
              break;
            }
            await new Promise((r) => setTimeout(r, Math.min(g.waitMs, 50)));
            continue;
          }
          granted = g.granted;
        }
        for (let k = 0; k < granted; k++) {
          const d = toSend[i++]!;
          const p: Promise<void> = deliver(adapter, d).finally(() => inflight.delete(p));
          inflight.add(p);
        }
      }
      if (i < toSend.length) {
        const rest = toSend.slice(i).map((d) => d.id);
        await deliveries.unclaim(sql, rest).catch(() => marks.giveBack(rest));
      }
      if (pausedFor) await idle(Math.min(pausedFor - 1_000, 30_000));
    }
    if (prefetched) {
      const left = await prefetched.catch(() => [] as deliveries.ClaimedDelivery[]);
      await deliveries.unclaim(sql, left.map((d) => d.id)).catch((error: unknown) => logger.error({ err: error }, 'broadcast: unclaim failed'));
    }
    await Promise.allSettled(inflight);
  }

  // A lane that fails for any reason starts again a second later: no error stops delivery for good.
  async function keepRunning(adapter: ChannelAdapter): Promise<void> {
    while (!stopping) {
      try {
        await lane(adapter);
      } catch (error) {
        logger.error({ err: error, channel: adapter.id }, 'broadcast lane failed; starting it again');
        await idle(1_000);
      }
    }
  }
  const lanes = deps.channels.list().map((adapter) => keepRunning(adapter));

  return {
    poke() {
      active.at = 0;
      for (const wake of [...wakers]) wake();
    },
    async close() {
      stopping = true;
      for (const wake of [...wakers]) wake();
      await Promise.allSettled(lanes);
      await marks.drain(5_000);
    },
    releaseStale: () => deliveries.releaseStale(sql, o.staleClaimMs),
  };
}
