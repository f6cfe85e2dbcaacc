/**
 * One send rate per channel, shared by every process and by both kinds of traffic, kept in Redis.
 *
 * It is a GCRA (generic cell rate algorithm): the key holds the "theoretical arrival time" of the
 * next message; each grant pushes it one interval further, and a send is allowed while that time
 * is no more than `tolerance` ahead of now. So in any rolling second at most
 * `ratePerSecond * headroom + burst` sends leave, whoever sends them.
 *
 * Replies go first: a reply that finds no slot raises a short "reply waiting" flag, and while it is
 * up broadcasts get no slot at all, so the reply takes the very next one (a wait of about one
 * interval, milliseconds at Telegram's rates). When no reply waits, broadcasts use the whole rate.
 * A platform 429 pushes the next slot past `retry_after` for everyone, and slows the channel by 5 %
 * for a minute (the platform's count and ours disagree: network jitter, a busy machine).
 */
import type { Redis } from 'ioredis';
import type { ChannelId } from '../shared/messages.js';

export type GateKind = 'reply' | 'broadcast';

export interface ChannelGateRate {
  /** The platform's limit, messages per second over the whole channel. */
  perSecond: number;
}

export interface ChannelGateOptions {
  redis: Redis;
  /** Key prefix (BullMQ prefix of the deployment or test). */
  prefix: string;
  rates: Partial<Record<ChannelId, ChannelGateRate>>;
  /**
   * Share of the platform limit actually used (0–1): the margin absorbs network jitter between
   * our clock and the platform's counting. Default 0.96 (plus a 1 % burst: at most 97 % of the
   * limit in any rolling second, a margin of ~30 ms of sending for jitter). A slot nobody takes in
   * time is lost, so reaching this share depends on senders never waiting for the database on
   * their way to the next slot (see delivery.ts); 0.97 met 429s on a busy machine.
   */
  headroom?: number;
}

export type Grant = { granted: number; waitMs: 0 } | { granted: 0; waitMs: number };

export interface ChannelGate {
  /** Takes up to `n` send slots now; or says how long to wait. Channels without a rate are unlimited. */
  take(channel: ChannelId, kind: GateKind, n?: number): Promise<Grant>;
  /** Waits for one slot (replies: the next one; broadcasts: one no reply wants). */
  acquire(channel: ChannelId, kind: GateKind, signal?: AbortSignal): Promise<void>;
  /** The platform said 429: nobody sends on the channel for `ms`. */
  pause(channel: ChannelId, ms: number): Promise<void>;
  hasRate(channel: ChannelId): boolean;
  /** The platform limit the gate paces to, if the channel has one. */
  perSecond(channel: ChannelId): number | undefined;
}

// KEYS[1] = next-slot time, KEYS[2] = reply-waiting flag, KEYS[3] = slow-down after a 429
// ARGV: interval ms, tolerance ms, kind ('r'|'b'), n
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[3]) == 1 then interval = interval * 1.05 end
local tolerance = tonumber(ARGV[2])
local kind = ARGV[3]
local n = tonumber(ARGV[4])
if kind == 'b' and redis.call('EXISTS', KEYS[2]) == 1 then
  return {0, tostring(interval)}
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allowAt = tat - tolerance
if allowAt > now then
  local wait = allowAt - now
  if kind == 'r' then
    redis.call('SET', KEYS[2], '1', 'PX', math.ceil(wait) + 50)
  end
  return {0, tostring(wait)}
end
local k = math.floor((now + tolerance - tat) / interval) + 1
if k > n then k = n end
tat = tat + k * interval
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 2000)
if kind == 'r' then
  -- served: broadcasts may go again (another waiting reply raises the flag on its next try)
  redis.call('DEL', KEYS[2])
end
return {k, '0'}
`;

// KEYS[1] = next-slot time, KEYS[3] = slow-down flag; ARGV: pause ms, tolerance ms, slow-down ms
const PAUSE = `
redis.call('SET', KEYS[3], '1', 'PX', tonumber(ARGV[3]))
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local until_ = now + tonumber(ARGV[1]) + tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > tat then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(until_ - now) + 2000)
end
return 1
`;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export function createChannelGate(options: ChannelGateOptions): ChannelGate {
  const headroom = options.headroom ?? 0.96;
  const params = new Map<ChannelId, { interval: number; tolerance: number }>();
  for (const [channel, rate] of Object.entries(options.rates) as [ChannelId, ChannelGateRate][]) {
    if (!rate?.perSecond) continue;
    const effective = rate.perSecond * headroom;
    const interval = 1000 / effective;
    // A small burst (1 % of the rate) lets one round trip grant several slots, and a sender whose
    // loop was late by a few milliseconds catch up instead of losing those slots.
    const burst = Math.max(1, Math.floor(rate.perSecond * 0.01));
    params.set(channel, { interval, tolerance: (burst - 1) * interval });
  }
  const keys = (channel: ChannelId) => [
    `${options.prefix}:gate:${channel}`,
    `${options.prefix}:gate:${channel}:reply`,
    `${options.prefix}:gate:${channel}:slow`,
  ];
  const redis = options.redis;

  const gate: ChannelGate = {
    hasRate: (channel) => params.has(channel),
    perSecond: (channel) => (params.has(channel) ? options.rates[channel]!.perSecond : undefined),
    async take(channel, kind, n = 1) {
      const p = params.get(channel);
      if (!p) return { granted: n, waitMs: 0 };
      const [k1, k2, k3] = keys(channel);
      const [granted, wait] = (await redis.eval(TAKE, 3, k1!, k2!, k3!, p.interval, p.tolerance, kind === 'reply' ? 'r' : 'b', n)) as [
        number,
        string,
      ];
      return granted > 0 ? { granted, waitMs: 0 } : { granted: 0, waitMs: Math.max(0.1, Number(wait)) };
    },
    async acquire(channel, kind, signal) {
      for (;;) {
        if (signal?.aborted) throw new Error('aborted');
        const g = await gate.take(channel, kind, 1);
        if (g.granted) return;
        await sleep(Math.min(g.waitMs, 1000), signal);
      }
    },
    async pause(channel, ms) {
      const p = params.get(channel);
      if (!p) return;
      const [k1, k2, k3] = keys(channel);
      // The platform counted more than we did (clock or network jitter): 5 % slower for a minute.
      await redis.eval(PAUSE, 3, k1!, k2!, k3!, ms, p.tolerance, 60_000);
    },
  };
  return gate;
}
