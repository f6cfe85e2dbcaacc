import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundBody } from '../../../src/dialog/types.js';
import type { FlowModule } from '../../../src/dialog/flow.js';
import { buildEngine, createTestDatabase, inbound, outboxOf, seedWebChatters, type TestDatabase } from '../../helpers/dialog-harness.js';

/**
 * A photo is downloaded before the message's transaction opens: a slow platform download must not
 * hold a pooled connection inside a transaction (nor the conversation's lock) while it waits.
 */
describe('photos are downloaded outside the message transaction, in their chat\'s order', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

  const openTransactions = async () => {
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and state like 'idle in transaction%'`;
    return row!.n;
  };

  it('fetches the bytes once, with no transaction open, and still answers the message', async () => {
    const { engine } = buildEngine(db.sql);
    let loads = 0;
    let openDuringLoad = -1;
    const photo: InboundBody = {
      kind: 'photo',
      media: {
        ref: 'file-1',
        mimeType: 'image/jpeg',
        load: async () => {
          loads++;
          await new Promise((r) => setTimeout(r, 150));
          openDuringLoad = await openTransactions();
          return Buffer.from('not really a jpeg');
        },
      },
    };
    const result = await engine.receive(inbound({ externalId: 'media-1' }, photo));
    expect(result.status).toBe('handled');
    expect(loads).toBe(1);
    expect(openDuringLoad).toBe(0);
    expect((await outboxOf(db.sql, 'media-1')).length).toBeGreaterThan(0);
  });

  it('a text sent while the photo before it is still downloading is handled after the photo', async () => {
    const handled: string[] = [];
    const recorder: FlowModule = {
      id: 'recorder',
      async intercept(ctx) {
        handled.push(ctx.inbound.kind === 'text' ? ctx.inbound.text : ctx.inbound.kind);
        return { replies: [`got ${handled.at(-1)}`] };
      },
    };
    const { engine } = buildEngine(db.sql, [recorder]);
    await seedWebChatters(db.sql, 'order', 2, '63');
    const slowPhoto: InboundBody = {
      kind: 'photo',
      media: { ref: 'file-2', mimeType: 'image/jpeg', load: () => new Promise((r) => setTimeout(() => r(Buffer.from('jpeg')), 200)) },
    };
    const from = { channel: 'web' as const, externalId: 'order-1' };
    // The web chat posts without waiting for answers; another chat's text must not wait for the photo.
    const other = engine.receive(inbound({ channel: 'web', externalId: 'order-2' }, { kind: 'text', text: 'other chat' }));
    const results = await Promise.all([
      engine.receive(inbound(from, slowPhoto)),
      engine.receive(inbound(from, { kind: 'text', text: 'after the photo' })),
      engine.receive(inbound(from, { kind: 'text', text: 'and then this' })),
      other,
    ]);
    expect(results.map((r) => r.status)).toEqual(['handled', 'handled', 'handled', 'handled']);
    expect(handled).toEqual(['other chat', 'photo', 'after the photo', 'and then this']);
    expect((await outboxOf(db.sql, 'order-1', 'web')).map((o) => o.text)).toEqual(['got photo', 'got after the photo', 'got and then this']);
  });

  it('a download that hangs is given up after the time limit: the flows answer instead of holding the conversation', async () => {
    const seen: string[] = [];
    const photoFlow: FlowModule = {
      id: 'photos',
      async intercept(ctx) {
        if (ctx.inbound.kind !== 'photo') return undefined;
        const outcome = await ctx.inbound.media.load().then(() => 'loaded', () => 'failed');
        seen.push(outcome);
        return { replies: [outcome] };
      },
    };
    const { engine } = buildEngine(db.sql, [photoFlow], 'pl', { mediaTimeoutMs: 300 });
    await seedWebChatters(db.sql, 'hang', 1, '64');
    const started = Date.now();
    const hanging: InboundBody = { kind: 'photo', media: { ref: 'file-3', mimeType: 'image/jpeg', load: () => new Promise<Buffer>(() => undefined) } };
    const result = await engine.receive(inbound({ channel: 'web', externalId: 'hang-1' }, hanging));
    expect(result.status).toBe('handled');
    expect(seen).toEqual(['failed']);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await outboxOf(db.sql, 'hang-1', 'web')).map((o) => o.text)).toEqual(['failed']);
  });

  it('a turn retried after a deadlock does not download the photo again', async () => {
    let loads = 0;
    let attempts = 0;
    const deadlockOnce: FlowModule = {
      id: 'deadlock',
      async intercept(ctx) {
        if (ctx.inbound.kind !== 'photo') return undefined;
        await ctx.inbound.media.load();
        if (++attempts === 1) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
        return { replies: ['stored'] };
      },
    };
    const { engine } = buildEngine(db.sql, [deadlockOnce]);
    await seedWebChatters(db.sql, 'retry', 1, '65');
    const photo: InboundBody = { kind: 'photo', media: { ref: 'file-4', mimeType: 'image/jpeg', load: async () => (loads++, Buffer.from('jpeg')) } };
    const result = await engine.receive(inbound({ channel: 'web', externalId: 'retry-1' }, photo));
    expect(result.status).toBe('handled');
    expect(attempts).toBeGreaterThan(1);
    expect(loads).toBe(1);
  });
});
