import { describe, expect, it } from 'vitest';
import { createGroupCommit, type Submitted } from '../../../src/dialog/group-commit.js';

/** A group commit whose batches finish only when the test says so. */
function harness(options = { maxInFlight: 2, maxBatch: 3 }) {
  const batches: Array<{ items: string[]; finish: () => void }> = [];
  let running = 0;
  let maxRunning = 0;
  const group = createGroupCommit<string, string>(options, (batch: Array<Submitted<string, string>>) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    return new Promise<void>((done) => {
      batches.push({
        items: batch.map((m) => m.item),
        finish: () => {
          running--;
          batch.forEach((m) => m.resolve(`ok ${m.item}`));
          done();
        },
      });
    });
  });
  // A few turns of the event loop: a finished batch settles, then the next pump runs.
  const tick = async () => {
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  };
  return { group, batches, tick, maxRunning: () => maxRunning };
}

describe('group commit', () => {
  it('a message that finds a free slot goes at the end of the turn, alone if nothing else came', async () => {
    const h = harness();
    const done = h.group.submit('a1', 'a');
    expect(h.batches).toEqual([]);
    await h.tick();
    expect(h.batches.map((b) => b.items)).toEqual([['a1']]);
    h.batches[0]!.finish();
    await expect(done).resolves.toBe('ok a1');
    expect(h.group.pending()).toBe(0);
  });

  it('what queues up while the slots are busy goes in batches of at most maxBatch', async () => {
    const h = harness({ maxInFlight: 1, maxBatch: 3 });
    const first = h.group.submit('a1', 'a');
    await h.tick();
    const results = [first, ...['b', 'c', 'd', 'e', 'f'].map((k) => h.group.submit(`${k}1`, k))];
    await h.tick();
    expect(h.batches.map((b) => b.items)).toEqual([['a1']]);
    h.batches[0]!.finish();
    await h.tick();
    expect(h.batches.map((b) => b.items)).toEqual([['a1'], ['b1', 'c1', 'd1']]);
    h.batches[1]!.finish();
    await h.tick();
    expect(h.batches[2]!.items).toEqual(['e1', 'f1']);
    h.batches[2]!.finish();
    expect(await Promise.all(results)).toEqual(['ok a1', 'ok b1', 'ok c1', 'ok d1', 'ok e1', 'ok f1']);
  });

  it('never runs more than maxInFlight batches at once', async () => {
    const h = harness({ maxInFlight: 2, maxBatch: 2 });
    const all = Array.from({ length: 20 }, (_, i) => h.group.submit(`m${i}`, `k${i}`));
    for (let round = 0; round < 20 && h.group.pending() > 0; round++) {
      for (const b of h.batches.splice(0)) b.finish();
      await h.tick();
    }
    await Promise.all(all);
    expect(h.maxRunning()).toBe(2);
  });

  it("keeps a conversation's messages apart and in order, however many arrive at once", async () => {
    const h = harness({ maxInFlight: 3, maxBatch: 10 });
    const order: string[] = [];
    const sent = ['x1', 'x2', 'y1', 'x3', 'y2', 'z1'].map((m) => h.group.submit(m, m[0]!).then((r) => order.push(r)));
    await h.tick();
    // what arrived in one turn goes together, but only the first message of each chat: x2 and x3
    // wait for x1, y2 for y1
    expect(h.batches.map((b) => b.items)).toEqual([['x1', 'y1', 'z1']]);
    h.batches[0]!.finish();
    await h.tick();
    // the next message of each chat, and still never two of one chat together
    expect(h.batches[1]!.items).toEqual(['x2', 'y2']);
    h.batches[1]!.finish();
    await h.tick();
    expect(h.batches[2]!.items).toEqual(['x3']);
    h.batches[2]!.finish();
    await Promise.all(sent);
    expect(order.filter((r) => r.startsWith('ok x'))).toEqual(['ok x1', 'ok x2', 'ok x3']);
  });

  it('a batch that fails as a whole rejects each of its messages', async () => {
    const group = createGroupCommit<string, string>({ maxInFlight: 1, maxBatch: 5 }, async () => {
      throw new Error('database gone');
    });
    await expect(group.submit('a', 'a')).rejects.toThrow('database gone');
    expect(group.pending()).toBe(0);
  });

  it('an item still on its way holds its place: its chat waits behind it, other chats go on', async () => {
    const h = harness({ maxInFlight: 1, maxBatch: 4 });
    let arrive!: (item: string) => void;
    const photo = h.group.submit(new Promise<string>((r) => (arrive = r)), 'a');
    const text = h.group.submit('a2', 'a');
    const other = h.group.submit('b1', 'b');
    await h.tick();
    expect(h.batches.map((b) => b.items)).toEqual([['b1']]);
    h.batches[0]!.finish();
    arrive('a1');
    await h.tick();
    expect(h.batches[1]!.items).toEqual(['a1']);
    h.batches[1]!.finish();
    await h.tick();
    expect(h.batches[2]!.items).toEqual(['a2']);
    h.batches[2]!.finish();
    expect(await Promise.all([photo, text, other])).toEqual(['ok a1', 'ok a2', 'ok b1']);
    expect(h.group.pending()).toBe(0);
  });

  it('an item that fails on its way is rejected and lets its chat go on', async () => {
    const h = harness({ maxInFlight: 1, maxBatch: 4 });
    const lost = h.group.submit(Promise.reject(new Error('download failed')), 'a');
    const next = h.group.submit('a2', 'a');
    await expect(lost).rejects.toThrow('download failed');
    await h.tick();
    expect(h.batches.map((b) => b.items)).toEqual([['a2']]);
    h.batches[0]!.finish();
    await expect(next).resolves.toBe('ok a2');
  });
});

