/**
 * The shared channel gate against the real Redis: many takers at once never exceed the rate in any
 * rolling second, broadcasts use the whole rate when nobody chats, and a reply waiting for a slot
 * gets the next one even while broadcast traffic saturates the channel.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { clearPrefix, testQueuePrefix, TEST_REDIS_URL } from '../../helpers/redis.js';
import { createChannelGate } from '../../../src/jobs/rate-gate.js';

const redis = new Redis(TEST_REDIS_URL);
const prefix = testQueuePrefix();
afterAll(async () => {
  await clearPrefix(prefix);
  redis.disconnect();
});

/** Most grants inside any window of `ms`. */
function maxInWindow(times: number[], ms: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= ms) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('channel gate', () => {
  it('keeps 8 concurrent broadcast takers under the rate in every rolling second, and uses it', async () => {
    const gate = createChannelGate({ redis, prefix: `${prefix}-a`, rates: { telegram: { perSecond: 200 } } });
    const granted: number[] = [];
    const end = Date.now() + 2500;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (Date.now() < end) {
          const g = await gate.take('telegram', 'broadcast', 4);
          if (g.granted) for (let k = 0; k < g.granted; k++) granted.push(Date.now());
          else await new Promise((r) => setTimeout(r, Math.min(g.waitMs, 20)));
        }
      }),
    );
    expect(maxInWindow(granted, 1000)).toBeLessThanOrEqual(200);
    // ~2.5 s at 192/s; the floor leaves room for timer granularity on a busy machine.
    expect(granted.length).toBeGreaterThan(192 * 2.5 * 0.7);
  });

  it('gives a waiting reply the next slot while broadcasts saturate the channel', async () => {
    const gate = createChannelGate({ redis, prefix: `${prefix}-b`, rates: { telegram: { perSecond: 20 } } });
    let stop = false;
    let broadcastGrants = 0;
    // 16 eager broadcast senders: without priority a reply would wait its turn among them.
    const saturate = Promise.all(
      Array.from({ length: 16 }, async () => {
        while (!stop) {
          const g = await gate.take('telegram', 'broadcast', 2);
          if (g.granted) broadcastGrants += g.granted;
          else await new Promise((r) => setTimeout(r, Math.min(g.waitMs, 10)));
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = Date.now();
      await gate.acquire('telegram', 'reply');
      waits.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 150));
    }
    stop = true;
    await saturate;
    expect(broadcastGrants).toBeGreaterThan(10); // the broadcast did run meanwhile
    // One interval at 20/s is ~51 ms; a reply never waits behind the broadcast's backlog.
    expect(Math.max(...waits)).toBeLessThan(200);
  });

  it('after a 429 nobody sends until retry_after has passed', async () => {
    const gate = createChannelGate({ redis, prefix: `${prefix}-c`, rates: { telegram: { perSecond: 100 } } });
    await gate.pause('telegram', 800);
    const t0 = Date.now();
    await gate.acquire('telegram', 'reply');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(750);
  });
});
