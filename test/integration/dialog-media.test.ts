import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundBody } from '../../src/dialog/types.js';
import type { FlowModule } from '../../src/dialog/flow.js';
import { buildEngine, createTestDatabase, inbound, outboxOf, seedWebChatters, type TestDatabase } from './dialog-harness.js';

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
});
