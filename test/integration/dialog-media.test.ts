import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundBody } from '../../src/dialog/types.js';
import { buildEngine, createTestDatabase, inbound, outboxOf, type TestDatabase } from './dialog-harness.js';

/**
 * A photo is downloaded before the message's transaction opens: a slow platform download must not
 * hold a pooled connection inside a transaction (nor the conversation's lock) while it waits.
 */
describe('photos are downloaded outside the message transaction', () => {
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
});
