/**
 * Opening a message takes the conversation's row lock on its chat identity; the row itself is
 * written only when something about the chat changed or it was last seen over a minute ago
 * (migration 0015), so a busy chat does not rewrite its identity on every message.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildEngine, chat, createTestDatabase, seedWebChatters, text, type TestDatabase } from '../../helpers/dialog-harness.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ max: 4 });
});
afterAll(async () => {
  await db?.drop();
});

it('locks the identity of a chat on every message and rewrites it only when it changed or aged', async () => {
  const { engine } = buildEngine(db.sql);
  await seedWebChatters(db.sql, 'open', 1, '61');
  const row = async () =>
    (await db.sql<{ version: string; lastSeenAt: Date; displayName: string | null }[]>`
      select xmin::text as version, last_seen_at, display_name from channel_identities where external_id = 'open-1'`)[0]!;
  const person = chat(engine, db.sql, { channel: 'web', externalId: 'open-1' });

  expect(await person.send(text('dzień dobry'))).toHaveLength(1);
  const first = await row();
  expect(await person.send(text('jeszcze raz'))).toHaveLength(1);
  expect(await row()).toEqual(first);

  // Seen over a minute ago: the next message records that it was seen now.
  await db.sql`update channel_identities set last_seen_at = now() - interval '2 minutes' where external_id = 'open-1'`;
  const aged = await row();
  await person.send(text('halo'));
  const seen = await row();
  expect(seen.version).not.toBe(aged.version);
  expect(seen.lastSeenAt.getTime()).toBeGreaterThan(aged.lastSeenAt.getTime() + 60_000);

  // A new display name is written at once.
  await chat(engine, db.sql, { channel: 'web', externalId: 'open-1', displayName: 'Ola' }).send(text('to ja'));
  expect((await row()).displayName).toBe('Ola');
});
