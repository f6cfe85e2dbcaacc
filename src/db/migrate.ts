import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { sha256Hex } from '../shared/ids.js';
import type { Sql } from './sql.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** An arbitrary constant: the advisory lock that serialises migration runs across instances. */
const MIGRATION_LOCK = 727_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new Error(`Migration file ${file} is not named NNNN_name.sql`);
    const text = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ version: Number(match[1]), name: match[2]!, sql: text, checksum: sha256Hex(text) });
  }
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(`Two migrations share version ${migrations[i]!.version}`);
    }
  }
  return migrations;
}

export interface MigrateResult {
  applied: string[];
}

/**
 * Applies pending migrations in order, each in its own transaction together with its
 * `schema_migrations` row, so a failing migration leaves the schema as it was. A transaction-level
 * advisory lock makes concurrent runs (two instances starting at once) wait for each other rather
 * than race. An applied migration whose file has changed stops the run: migrations are
 * forward-only, a fix is a new file.
 */
export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const migrations = await loadMigrations(dir);
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx.unsafe(`
      create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`);
  });
  const applied: string[] = [];
  for (const m of migrations) {
    const didApply = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
      const [existing] = await tx<{ checksum: string }[]>`
        select checksum from schema_migrations where version = ${m.version}`;
      if (existing) {
        if (existing.checksum !== m.checksum) {
          throw new Error(
            `Migration ${m.version}_${m.name} was changed after it was applied; add a new migration instead`,
          );
        }
        return false;
      }
      await tx.unsafe(m.sql);
      await tx`insert into schema_migrations (version, name, checksum) values (${m.version}, ${m.name}, ${m.checksum})`;
      return true;
    });
    if (didApply) applied.push(`${String(m.version).padStart(4, '0')}_${m.name}`);
  }
  return { applied };
}
