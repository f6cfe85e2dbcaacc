/** Timing helpers for bench:scale: latency runs, a load-independent reference, peak RSS, storage. */
import { performance } from 'node:perf_hooks';
import type { Sql } from '../../src/db/sql.js';
import { percentile } from './scratch-db.js';

export interface Timing {
  count: number;
  p50Ms: number;
  p99Ms: number;
  perSec: number;
}

const r2 = (n: number) => Math.round(n * 100) / 100;

export function summarize(latencies: number[], elapsedMs: number): Timing {
  const s = [...latencies].sort((a, b) => a - b);
  return { count: s.length, p50Ms: r2(percentile(s, 50)), p99Ms: r2(percentile(s, 99)), perSec: r2((s.length / elapsedMs) * 1000) };
}

/** `count` calls of `fn(k)` from `concurrency` callers; k runs 0..count-1. */
export async function timed(count: number, concurrency: number, fn: (k: number) => Promise<unknown>): Promise<Timing> {
  const latencies: number[] = [];
  let k = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (k < count) {
        const mine = k++;
        const s = performance.now();
        await fn(mine);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return summarize(latencies, performance.now() - t0);
}

/**
 * The reference each request workload is measured against, right before it: a primary-key lookup
 * of a random participant on the same pool. It costs the same at every size, so its drift is the
 * machine's (other tenants' load), and `p99 / reference p99` compares sizes across minutes.
 */
export function pkLookup(sql: Sql, n: number): Promise<Timing> {
  return timed(400, 1, (k) => sql`select id from participants where id = md5('p' || ${1 + ((k * 7919) % n)})::uuid`);
}

/** Samples this process's RSS every 50 ms until stopped; answers the peak in MB. */
export function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.round((Math.max(peak, process.memoryUsage().rss) / 1048576) * 10) / 10;
    },
  };
}

/** Table sizes (heap + indexes + toast) in bytes, and what they come to per row of what they store. */
export async function storage(sql: Sql): Promise<Record<string, number>> {
  const rows = await sql<{ name: string; bytes: string }[]>`
    select c.relname as name, pg_total_relation_size(c.oid)::text as bytes
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'r'`;
  const size = Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)]));
  const [db] = await sql<{ bytes: string }[]>`select pg_database_size(current_database())::text as bytes`;
  size.database = Number(db!.bytes);
  return size;
}
