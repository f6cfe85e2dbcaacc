import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParticipants, type ParticipantsService } from '../../../src/services/participants/index.js';
import { AppError } from '../../../src/shared/errors.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

let db: TestDatabase;
let participants: ParticipantsService;
const N = 230;

beforeAll(async () => {
  db = await createTestDatabase();
  participants = createParticipants({ sql: db.sql, defaultLocale: 'pl' });
  // many share a created_at, so the cursor's tie-break on id is what keeps a page boundary exact
  await db.sql.unsafe(`
    insert into participants (program_id, role, name, phone, phone_verified, store, created_at)
    select (select id from programs where slug = 'default'), 'consumer',
           case when i % 50 = 7 then 'Zofia Wiśniewska ' || i else 'Jan Nowak ' || i end,
           '+48 600 ' || lpad(i::text, 6, '0'), true, 'Sklep ' || (i % 10),
           timestamptz '2026-01-01' + (i / 4) * interval '1 hour'
      from generate_series(1, ${N}) i`);
  await db.sql`analyze participants`;
});
afterAll(async () => {
  await db.drop();
});

describe('participant list at depth', () => {
  it('walks the whole list by cursor in the offset order, every participant once', async () => {
    const byOffset = [];
    for (let offset = 0; offset < N; offset += 40) byOffset.push(...(await participants.list(db.sql, { limit: 40, offset })).items.map((p) => p.id));
    const byCursor: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await participants.list(db.sql, { limit: 40, after });
      expect(page.total).toBe(N);
      byCursor.push(...page.items.map((p) => p.id));
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    expect(byCursor).toEqual(byOffset);
    expect(new Set(byCursor).size).toBe(N);
  });

  it('finds by name, store and phone digits (substrings), with and without a cursor', async () => {
    const named = await participants.list(db.sql, { search: 'wiśniewska', limit: 2 });
    expect(named.total).toBe(5);
    expect(named.items.every((p) => p.name!.startsWith('Zofia'))).toBe(true);
    const rest = await participants.list(db.sql, { search: 'wiśniewska', limit: 10, after: named.nextCursor! });
    expect(rest.items).toHaveLength(3);
    expect(new Set([...named.items, ...rest.items].map((p) => p.id)).size).toBe(5);
    expect((await participants.list(db.sql, { search: 'sklep 3', limit: 100 })).total).toBe(N / 10);
    const phone = await participants.list(db.sql, { search: '000123', limit: 5 });
    expect(phone.items.map((p) => p.name)).toEqual(['Jan Nowak 123']);
    // a literal % matches only a %
    expect((await participants.list(db.sql, { search: '%', limit: 5 })).total).toBe(0);
  });

  it('uses the trigram index for a phone-digit search', async () => {
    await db.sql`set enable_seqscan = off`;
    const plan = await db.sql.unsafe(`explain select id from participants where regexp_replace(coalesce(phone, ''), '\\D', '', 'g') like '%00012%'`);
    await db.sql`reset enable_seqscan`;
    expect(JSON.stringify(plan)).toContain('participants_phone_digits_trgm');
  });

  it('refuses a cursor it did not give, naming the field', async () => {
    await expect(participants.list(db.sql, { after: 'bm9wZQ' })).rejects.toThrow(AppError);
    await expect(participants.list(db.sql, { after: 'bm9wZQ' })).rejects.toMatchObject({ code: 'invalid_input', details: { field: 'after' } });
  });
});
