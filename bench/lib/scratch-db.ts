/** A migrated database of its own for one benchmark run, dropped afterwards. */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { migrate } from '../../src/db/migrate.js';
import { createSql, type Sql } from '../../src/db/sql.js';
import { BENCH_SERVER_URL } from './pgbench.js';

export interface ScratchDatabase {
  url: string;
  /** A pool of `max` connections on the scratch database (closed by drop()). */
  pool(max: number): Sql;
  drop(): Promise<void>;
}

export async function createScratchDatabase(prefix = 'bench'): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = postgres(BENCH_SERVER_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const u = new URL(BENCH_SERVER_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const pools: Sql[] = [];
  const setup = createSql(url, { max: 2 });
  await migrate(setup);
  pools.push(setup);
  return {
    url,
    pool: (max) => {
      const s = createSql(url, { max });
      pools.push(s);
      return s;
    },
    drop: async () => {
      await Promise.all(pools.map((p) => p.end({ timeout: 5 })));
      const a = postgres(BENCH_SERVER_URL, { max: 1, onnotice: () => undefined });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** Percentile of an ascending-sorted array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
