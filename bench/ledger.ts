/**
 * Ledger throughput through the service's own code (Node → postgres.js → one plpgsql call per
 * transfer), next to `pgbench -b simple-update` with the same client count on the same server in
 * the same run. Prints one JSON line per workload:
 *   {bench, workload, clients, seconds, rounds, transfersPerSec, p50Ms, p99Ms, pgbenchTps, ratio,
 *    ratios, pgbenchSamples}
 * The run is BENCH_ROUNDS rounds of (pgbench, earn, spend), each BENCH_SECONDS long, so the
 * reference is always measured next to the workload it is compared with. On a shared machine the
 * server's speed drifts by ±15 % within minutes; interleaving keeps a slow minute from landing on
 * one side only. `ratios` is each round's workload rate over that round's pgbench TPS; `ratio` is
 * their median; transfersPerSec and the latencies cover all rounds together.
 * Env: BENCH_SECONDS (default 6), BENCH_ROUNDS (default 3), BENCH_CLIENTS (default "8,16"),
 * BENCH_DATABASE_URL.
 *
 * Every earn credits the same campaign, on purpose: if the issuance account were updated in place
 * it would be a hot row and the ratio would collapse.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createLedger, type Ledger } from '../src/services/ledger/index.js';
import { checkpoint, runPgbench } from './lib/pgbench.js';
import { createScratchDatabase, percentile } from './lib/scratch-db.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = (process.env.BENCH_CLIENTS ?? '8,16').split(',').map(Number);
const PARTICIPANTS = 5000;
const reason = { key: 'bench:op' };

interface Measured {
  count: number;
  elapsedS: number;
  latencies: number[];
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
  return { count: latencies.length, elapsedS: (performance.now() - start) / 1000, latencies };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

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
          setup.earn(setupSql, { programId, participantId, amount: 100_000_000, source: 'bonus', key: `seed:${participantId}`, reason, expiresAt: null }),
        ),
      );
    }
    await setupSql`vacuum analyze`.catch(() => undefined);
    const run = randomUUID().slice(0, 8);

    for (const clients of CLIENTS) {
      const sql = db.pool(clients);
      const ledger: Ledger = createLedger({ sql });
      const pick = (list: string[]) => list[Math.floor(Math.random() * list.length)]!;
      const rounds: Array<{ pgbenchTps: number; earn: Measured; spend: Measured }> = [];
      for (let r = 0; r < ROUNDS; r++) {
        const reference = await runPgbench({ clients, threads: 2, seconds: SECONDS });
        await checkpoint();
        const earn = await drive(clients, SECONDS, (w, i) =>
          ledger.earn(sql, {
            programId, participantId: pick(earners), amount: 10, source: 'code', campaignId,
            key: `bench:${run}:earn:${clients}:${r}:${w}:${i}`, reason, expiresAt: null,
          }),
        );
        await checkpoint();
        const spend = await drive(clients, SECONDS, (w, i) =>
          ledger.spend(sql, { programId, participantId: pick(spenders), amount: 1, key: `bench:${run}:spend:${clients}:${r}:${w}:${i}`, reason }),
        );
        rounds.push({ pgbenchTps: reference.tps, earn, spend });
      }
      await sql.end({ timeout: 5 });
      const pgbenchTps = rounds.reduce((t, x) => t + x.pgbenchTps, 0) / rounds.length;
      for (const workload of ['earn', 'spend'] as const) {
        const runs = rounds.map((x) => x[workload]);
        const latencies = runs.flatMap((m) => m.latencies).sort((x, y) => x - y);
        const perSec = runs.reduce((t, m) => t + m.count, 0) / runs.reduce((t, m) => t + m.elapsedS, 0);
        const ratios = rounds.map((x) => x[workload].count / x[workload].elapsedS / x.pgbenchTps);
        process.stdout.write(
          `${JSON.stringify({
            bench: 'ledger',
            workload,
            clients,
            seconds: SECONDS,
            rounds: ROUNDS,
            transfersPerSec: round(perSec, 1),
            p50Ms: round(percentile(latencies, 50)),
            p99Ms: round(percentile(latencies, 99)),
            pgbenchTps: round(pgbenchTps, 1),
            ratio: round(median(ratios), 3),
            ratios: ratios.map((x) => round(x, 3)),
            pgbenchSamples: rounds.map((x) => round(x.pgbenchTps, 1)),
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
