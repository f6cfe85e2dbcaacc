import postgres from 'postgres';
import { randomBytes } from 'node:crypto';
import { createSql, type Sql } from '../../src/db/sql.js';
import { migrate } from '../../src/db/migrate.js';

/** The server tests run against; CI starts the machine's Postgres (see .ci/run). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  sql: Sql;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh database for one test file, migrated unless `migrated: false`. */
export async function createTestDatabase(options: { migrated?: boolean; max?: number } = {}): Promise<TestDatabase> {
  const name = `punkto_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = withDatabase(TEST_DATABASE_URL, name);
  const sql = createSql(url, { max: options.max ?? 20 });
  if (options.migrated !== false) await migrate(sql);
  return {
    name,
    url,
    sql,
    drop: async () => {
      await sql.end({ timeout: 5 });
      const a = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}
