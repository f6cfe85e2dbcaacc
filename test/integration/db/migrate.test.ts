import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, loadMigrations } from '../../../src/db/migrate.js';
import { createSql } from '../../../src/db/sql.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

describe('migration runner', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    dir = await mkdtemp(path.join(tmpdir(), 'punkto-migrations-'));
    await writeFile(path.join(dir, '0001_a.sql'), 'create table a (id int primary key);');
    await writeFile(path.join(dir, '0002_b.sql'), 'create table b (id int primary key references a);');
  });
  afterAll(async () => db.drop());

  it('applies migrations in order, once, also from two instances at the same time', async () => {
    const other = createSql(db.url, { max: 2 });
    const results = await Promise.all([migrate(db.sql, dir), migrate(other, dir), migrate(db.sql, dir)]);
    await other.end();
    expect(results.flatMap((r) => r.applied).sort()).toEqual(['0001_a', '0002_b']);
    const rows = await db.sql<{ version: number }[]>`select version from schema_migrations order by version`;
    expect(rows.map((r) => r.version)).toEqual([1, 2]);
    expect((await migrate(db.sql, dir)).applied).toEqual([]);
  });

  it('leaves the schema as it was when a migration fails, and reports it', async () => {
    await writeFile(path.join(dir, '0003_bad.sql'), 'create table c (id int); select * from no_such_table;');
    await expect(migrate(db.sql, dir)).rejects.toThrow(/no_such_table/);
    const [c] = await db.sql`select to_regclass('c') as t`;
    expect(c!.t).toBeNull();
    const [v] = await db.sql<{ max: number }[]>`select max(version) from schema_migrations`;
    expect(v!.max).toBe(2);
  });

  it('refuses to go on when an applied migration was edited', async () => {
    await writeFile(path.join(dir, '0003_bad.sql'), 'create table c (id int);');
    await writeFile(path.join(dir, '0001_a.sql'), 'create table a (id bigint primary key);');
    await expect(migrate(db.sql, dir)).rejects.toThrow(/changed after it was applied/);
  });

  it('the project migrations apply to an empty database', async () => {
    const fresh = await createTestDatabase({ migrated: false });
    try {
      const { applied } = await migrate(fresh.sql);
      expect(applied.length).toBe((await loadMigrations()).length);
      const [p] = await fresh.sql`select slug from programs`;
      expect(p!.slug).toBe('default');
    } finally {
      await fresh.drop();
    }
  });
});
