/**
 * Code redemptions through the full inbound path: an inbound text is accepted (inbox row), the
 * dialog engine runs the codes interceptor, the code is taken and credited in the ledger, and the
 * reply is committed in the outbox, in the same transaction. 16 participants (one chat each) send
 * fresh codes back to back for a fixed time; latency is from `receive()` to the committed reply.
 * The engine runs as the service runs it, group commit included (messages that queue up share a
 * transaction); `messagesPerCommit` says how many shared one on average, and BENCH_GROUP_COMMIT=off
 * measures one transaction per message instead.
 * `pgbench -b simple-update` with 16 clients is the reference, measured in the same run: as in
 * bench/ledger.ts the run is BENCH_ROUNDS rounds of (pgbench, redemptions), each BENCH_SECONDS long
 * and each after a CHECKPOINT, so a slow minute of a shared machine weighs on both sides of a
 * round. `ratios` is each round's redemption rate over its pgbench TPS and `ratio` their median;
 * the rate and latencies cover all rounds together. Prints one JSON line:
 *   {bench, clients, seconds, rounds, redemptions, redemptionsPerSec, p50Ms, p99Ms, pgbenchTps,
 *    ratio, ratios, pgbenchSamples, messagesPerCommit, groupCommit, load1}
 *   (load1: the machine's 1-minute load average at the end)
 * Env: BENCH_SECONDS (default 8), BENCH_ROUNDS (default 3), BENCH_CLIENTS (default 16),
 * BENCH_GROUP_COMMIT (on|off), BENCH_DATABASE_URL.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createLedger } from '../src/services/ledger/index.js';
import { createCampaigns } from '../src/services/campaigns/index.js';
import { createCodes, createCodeHasher } from '../src/services/codes/index.js';
import { createCodesFlow } from '../src/dialog/flows/codes/index.js';
import { createDialogEngine } from '../src/dialog/engine.js';
import { createFlows } from '../src/dialog/flow.js';
import { createI18n } from '../src/i18n/index.js';
import { createParticipants } from '../src/services/participants/index.js';
import { createEnqueueOutbound } from '../src/services/outbox/index.js';
import { createLogger } from '../src/shared/logger.js';
import { checkpoint, runPgbench } from './lib/pgbench.js';
import { createScratchDatabase, percentile } from './lib/scratch-db.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const GROUP_COMMIT = process.env.BENCH_GROUP_COMMIT !== 'off';
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const db = await createScratchDatabase('bench_redeem');
  try {
    const sql = db.pool(CLIENTS + 2);
    const logger = createLogger({ level: 'silent', pretty: false });
    const i18n = createI18n({ defaultLocale: 'pl' });
    const ledger = createLedger({ sql, logger });
    const campaigns = createCampaigns({ sql, logger });
    const codes = createCodes({ sql, ledger, campaigns, hash: createCodeHasher(randomBytes(32)), logger });
    const participants = createParticipants({ sql, defaultLocale: 'pl' });
    const engine = createDialogEngine({
      sql,
      i18n,
      participants,
      enqueueOutbound: createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: 'pl' }),
      flows: createFlows([createCodesFlow({ codes })]),
      balances: ledger,
      logger,
      defaultLocale: 'pl',
      ...(GROUP_COMMIT ? {} : { groupCommit: { maxBatch: 1, maxInFlight: CLIENTS } }),
    });

    const campaign = await campaigns.create(
      { name: 'Bench', startsAt: new Date(Date.now() - 3600_000), endsAt: new Date(Date.now() + 86_400_000), status: 'active' },
      'bench',
    );
    // More codes than the run can use: each redemption takes a fresh one.
    const { codes: pool } = await codes.createBatch(campaign.id, { count: 200_000, points: 10 }, 'bench');
    const [program] = await sql<{ id: string }[]>`select id from programs where slug = 'default'`;
    for (let w = 0; w < CLIENTS; w++) {
      const [p] = await sql<{ id: string }[]>`
        insert into participants (program_id, role, locale, name, phone, phone_verified, consent_version, consent_at, registered_at)
        values (${program!.id}, 'consumer', 'pl', ${`Bench ${w}`}, ${`+4850000${String(w).padStart(4, '0')}`}, true, '1', now(), now())
        returning id`;
      await sql`insert into channel_identities (program_id, channel, external_id, chat_id, participant_id)
        values (${program!.id}, 'web', ${`bench-${w}`}, ${`bench-${w}`}, ${p!.id})`;
    }

    let next = 0;
    let seq = 0;
    const redeemOne = async (w: number) => {
      const code = pool[next++]!;
      await engine.receive({
        kind: 'text',
        text: code,
        messageId: `b${++seq}`,
        from: { channel: 'web', externalId: `bench-${w}` },
        receivedAt: new Date(),
      });
    };
    const warmUntil = performance.now() + 1500;
    await Promise.all(Array.from({ length: CLIENTS }, async (_, w) => {
      while (performance.now() < warmUntil) await redeemOne(w);
    }));
    const latencies: number[] = [];
    const firstMeasured = seq + 1;
    const rounds: Array<{ pgbenchTps: number; count: number; elapsedS: number }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      const reference = await runPgbench({ clients: CLIENTS, seconds: SECONDS });
      await checkpoint();
      const before = latencies.length;
      const start = performance.now();
      const end = start + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, w) => {
          while (performance.now() < end) {
            const t0 = performance.now();
            await redeemOne(w);
            latencies.push(performance.now() - t0);
          }
        }),
      );
      rounds.push({ pgbenchTps: reference.tps, count: latencies.length - before, elapsedS: (performance.now() - start) / 1000 });
    }
    latencies.sort((a, b) => a - b);

    // Every redemption credited exactly once and answered.
    const [counts] = await sql<{ redemptions: number; replies: number }[]>`
      select (select count(*) from code_redemptions)::int as redemptions, (select count(*) from outbox)::int as replies`;
    if (counts!.redemptions !== next || counts!.replies < next) {
      throw new Error(`expected ${next} redemptions and replies, found ${JSON.stringify(counts)}`);
    }
    // Messages committed by one transaction share its xmin.
    const [commits] = await sql<{ messages: number; transactions: number }[]>`
      select count(*)::int as messages, count(distinct xmin::text)::int as transactions
        from inbox where message_id like 'b%' and substring(message_id from 2)::int >= ${firstMeasured}`;
    const check = await ledger.check();
    if (!check.ok) throw new Error(`ledger check failed: ${JSON.stringify(check.problems.slice(0, 5))}`);

    const pgbenchTps = rounds.reduce((t, x) => t + x.pgbenchTps, 0) / rounds.length;
    const perSec = latencies.length / rounds.reduce((t, x) => t + x.elapsedS, 0);
    const ratios = rounds.map((x) => x.count / x.elapsedS / x.pgbenchTps);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'redeem',
        clients: CLIENTS,
        seconds: SECONDS,
        rounds: ROUNDS,
        redemptions: latencies.length,
        redemptionsPerSec: round(perSec, 1),
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(percentile(latencies, 99)),
        pgbenchTps: round(pgbenchTps, 1),
        ratio: round(median(ratios), 3),
        ratios: ratios.map((x) => round(x, 3)),
        pgbenchSamples: rounds.map((x) => round(x.pgbenchTps, 1)),
        messagesPerCommit: round(commits!.messages / Math.max(1, commits!.transactions), 1),
        groupCommit: GROUP_COMMIT,
        load1: round(loadavg()[0]!, 2),
      })}\n`,
    );
  } finally {
    await db.drop();
  }
}

await main();
