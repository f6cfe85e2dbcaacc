/**
 * Ledger throughput through the service's own code (Node → postgres.js → one plpgsql call per
 * transfer), next to `pgbench -b simple-update` with the same client count on the same server in
 * the same run. Prints one JSON line per workload:
 *   {bench, workload, clients, seconds, transfersPerSec, p50Ms, p99Ms, pgbenchTps, ratio, pgbenchSamples}
 * pgbenchTps is the mean of a pgbench run just before and just after the two ledger workloads.
 * Env: BENCH_SECONDS (default 10), BENCH_CLIENTS (default "8,16"), BENCH_DATABASE_URL.
 *
 * Every earn credits the same campaign, on purpose: if the issuance account were updated in place
 * it would be a hot row and the ratio would collapse.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createLedger, type Ledger } from '../src/services/ledger/index.js';
import { checkpoint, runPgbench } from './lib/pgbench.js';
import { createScratchDatabase, percentile } from './lib/scratch-db.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CLIENTS = (process.env.BENCH_CLIENTS ?? '8,16').split(',').map(Number);
const PARTICIPANTS = 5000;
const reason = { key: 'bench:op' };

interface Measured {
  transfersPerSec: number;
  p50Ms: number;
  p99Ms: number;
  count: number;
}

/** `clients` loops, each one operation at a time, for `seconds`; a short warm-up is not counted. */
async function drive(clients: number, seconds: number, op: (worker: number, i: number) => Promise<unknown>): Promise<Measured> {
  const warmUntil = performance.now() + 1000;
  await Promise.all(Array.from({ length: clients }, async (_, w) => {
    for (let i = 0; performance.now() < warmUntil; i++) await op(w, -1 - i);
  }));
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) {
        const t0 = performance.now();
        await op(w, i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    transfersPerSec: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    count: latencies.length,
  };
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const db = await createScratchDatabase('bench_ledger');
  try {
    const setupSql = db.pool(8);
    const [program] = await setupSql<{ id: string }[]>`select id from programs where slug = 'default'`;
    const programId = program!.id;
    const campaignId = randomUUID();
    const setup = createLedger({ sql: setupSql });
    // spenders start with one big lot each, so a spend allocates from one lot like most real ones
    const spenders = Array.from({ length: PARTICIPANTS }, () => randomUUID());
    const earners = Array.from({ length: PARTICIPANTS }, () => randomUUID());
    for (let i = 0; i < spenders.length; i += 64) {
      await Promise.all(
        spenders.slice(i, i + 64).map((participantId) =>
          setup.earn({ programId, participantId, amount: 100_000_000, source: 'bonus', key: `seed:${participantId}`, reason, expiresAt: null }),
        ),
      );
    }
    await setupSql`vacuum analyze`.catch(() => undefined);
    const run = randomUUID().slice(0, 8);

    for (const clients of CLIENTS) {
      // the reference runs before and after the ledger workloads and is averaged, so load that
      // drifts during the run (a shared machine) weighs on both sides alike
      const before = await runPgbench({ clients, threads: 2, seconds: SECONDS });
      const sql = db.pool(clients);
      const ledger: Ledger = createLedger({ sql });
      const pick = (list: string[]) => list[Math.floor(Math.random() * list.length)]!;

      await checkpoint();
      const earn = await drive(clients, SECONDS, (w, i) =>
        ledger.earn({
          programId, participantId: pick(earners), amount: 10, source: 'code', campaignId,
          key: `bench:${run}:earn:${clients}:${w}:${i}`, reason, expiresAt: null,
        }),
      );
      await checkpoint();
      const spend = await drive(clients, SECONDS, (w, i) =>
        ledger.spend({ programId, participantId: pick(spenders), amount: 1, key: `bench:${run}:spend:${clients}:${w}:${i}`, reason }),
      );
      await sql.end({ timeout: 5 });
      const after = await runPgbench({ clients, threads: 2, seconds: SECONDS });
      const pgbenchTps = (before.tps + after.tps) / 2;
      for (const [workload, m] of [['earn', earn], ['spend', spend]] as const) {
        process.stdout.write(
          `${JSON.stringify({
            bench: 'ledger',
            workload,
            clients,
            seconds: SECONDS,
            transfersPerSec: round(m.transfersPerSec, 1),
            p50Ms: round(m.p50Ms),
            p99Ms: round(m.p99Ms),
            pgbenchTps: round(pgbenchTps, 1),
            ratio: round(m.transfersPerSec / pgbenchTps, 3),
            pgbenchSamples: [round(before.tps, 1), round(after.tps, 1)],
          })}\n`,
        );
      }
    }
    const check = await createLedger({ sql: setupSql }).check();
    if (!check.ok) throw new Error(`ledger check failed after the benchmark: ${JSON.stringify(check.problems.slice(0, 5))}`);
  } finally {
    await db.drop();
  }
}

await main();
