/**
 * bench:scale — how the cost grows with the data (issue 24). For each size (BENCH_SIZES, default
 * 10000,100000,1000000 participants) a database of its own is created, seeded (bench/lib/scale-seed.ts:
 * ~10 ledger entries, 2 chats, 1 redemption per participant, 5 codes per participant in batches,
 * a receipt per two, 100 campaigns, open holds, lots with spread-out expiry), measured, and dropped.
 *
 * One JSON line per workload and size:
 *   {"bench":"scale","workload":…,"participants":N,"p50Ms":…,"p99Ms":…,"perSec":…,"reference":{…},…}
 * `reference` is what it was measured against in the same minute: pgbench (16 clients) for the
 * redemption throughput, a primary-key lookup of a participant for the per-request workloads (it
 * costs the same at every size, so `p99Ref` = p99 / the lookup's p99 compares sizes measured
 * minutes apart on a shared machine), the inbound path alone for the inbound p99 under a sweep or a
 * fan-out. The last line per size is the storage (bytes per participant, entry, redemption).
 * Env: BENCH_SIZES, BENCH_SECONDS (redemption run, default 8), BENCH_REQUESTS (per request
 * workload, default 300), BENCH_DATABASE_URL.
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as participantsRepo from '../src/db/participants/participants-repo.js';
import * as ordersRepo from '../src/db/rewards/orders-repo.js';
import { listReceipts } from '../src/db/receipts/receipts-repo.js';
import { runPgbench, checkpoint } from './lib/pgbench.js';
import { createScratchDatabase } from './lib/scratch-db.js';
import { nameOf, phoneOf, seedProgram, storeOf } from './lib/scale-seed.js';
import { createInboundPath } from './lib/scale-inbound.js';
import { pkLookup, rssSampler, storage, summarize, timed, type Timing } from './lib/scale-measure.js';
import { fanOutAll, reconcileAll, reconcileChanges, reconcileFull } from './lib/scale-batch-work.js';

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const r = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const print = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ bench: 'scale', ...o })}\n`);
const note = (s: string) => process.stderr.write(`[bench:scale] ${s}\n`);

async function runSize(n: number): Promise<void> {
  const db = await createScratchDatabase('bench_scale');
  try {
    const sql = db.pool(20);
    const t0 = performance.now();
    const dueLots = Math.min(100_000, n);
    await seedProgram(sql, { participants: n, dueLots }, (s, ms) => note(`${n}: ${s} ${Math.round(ms)} ms`));
    const seedS = r((performance.now() - t0) / 1000, 1);
    const [program] = await sql<{ id: string }[]>`select id from programs where slug = 'default'`;
    const programId = program!.id;
    const line = (workload: string, t: Timing, ref: Timing, extra: Record<string, unknown> = {}) =>
      print({ workload, participants: n, p50Ms: t.p50Ms, p99Ms: t.p99Ms, perSec: t.perSec, count: t.count,
              reference: { what: 'participant primary-key lookup', p50Ms: ref.p50Ms, p99Ms: ref.p99Ms },
              p99Ref: r(t.p99Ms / ref.p99Ms), ...extra });
    // a random seeded participant per call, the same sequence at every size
    const pick = (k: number) => 1 + ((k * 104_729 + 17) % n);

    const inbound = await createInboundPath(sql, 200_000);
    // 1. redemptions through the whole inbound path, 16 chats, next to pgbench
    const chats = Array.from({ length: 16 }, (_, w) => pick(w * 31 + 5));
    const warm = performance.now() + 1500;
    await inbound.drive(chats, () => performance.now() > warm);
    const ref = await runPgbench({ clients: 16, seconds: SECONDS });
    await checkpoint();
    const rs = performance.now();
    const lat = await inbound.drive(chats, () => performance.now() > rs + SECONDS * 1000);
    const redeem = summarize(lat, performance.now() - rs);
    print({ workload: 'redeem', participants: n, p50Ms: redeem.p50Ms, p99Ms: redeem.p99Ms, perSec: redeem.perSec,
            count: redeem.count, reference: { what: 'pgbench simple-update, 16 clients', tps: r(ref.tps, 1) },
            ratio: r(redeem.perSec / ref.tps, 3), seedS, load1: r(loadavg()[0]!) });

    // 2. what a participant and an admin open
    const reqs: Array<[string, (k: number) => Promise<unknown>]> = [
      ['balance-screen', (k) => {
        const id = participantIdOf(pick(k));
        return Promise.all([inbound.ledger.balance(sql, programId, id), inbound.ledger.history(sql, programId, id, { limit: 5 })]);
      }],
      ['participant-profile', async (k) => {
        const p = await participantsRepo.getById(sql, participantIdOf(pick(k)));
        return Promise.all([inbound.ledger.balance(sql, programId, p!.id), participantsRepo.identitiesOf(sql, p!.id),
                            inbound.ledger.history(sql, programId, p!.id, { limit: 20 })]);
      }],
      ['search-name', (k) => participantsRepo.list(sql, { programId, search: nameOf(pick(k)).split(' ').slice(1).join(' '), limit: 50, offset: 0 })],
      ['search-store', (k) => participantsRepo.list(sql, { programId, search: storeOf(pick(k)), limit: 50, offset: 0 })],
      ['search-phone-digits', (k) => participantsRepo.list(sql, { programId, search: phoneOf(pick(k)).slice(-7), limit: 50, offset: 0 })],
      ['list-participants-page1', () => participantsRepo.list(sql, { programId, limit: 50, offset: 0 })],
      ['list-participants-deep', (k) => participantsRepo.list(sql, { programId, limit: 50, offset: Math.floor(((k % 10) / 10) * (n - 50)) })],
      // the same depths by keyset: the cursor of the participant at that depth (seeded newest last)
      ['list-participants-cursor-deep', async (k) => {
        const [at] = await sql<{ createdAt: Date; id: string }[]>`
          select created_at, id from participants where id = ${participantIdOf(n - Math.floor(((k % 10) / 10) * (n - 50)))}::uuid`;
        return participantsRepo.list(sql, { programId, limit: 50, offset: 0, after: at! });
      }],
      ['list-receipts-pending', () => listReceipts(sql, { programId, status: 'pending', limit: 50 })],
      ['list-receipts-approved-deep', (k) => listReceipts(sql, { programId, status: 'approved', limit: 50,
        before: new Date(Date.now() - (((k % 10) + 1) / 11) * 700 * 86_400_000) })],
      ['list-orders-ordered', () => ordersRepo.list(sql, programId, { status: 'ordered', limit: 50, offset: 0 })],
      ['list-orders-deep', (k) => ordersRepo.list(sql, programId, { limit: 50, offset: Math.floor(((k % 10) / 10) * (n * 0.15 - 50)) })],
    ];
    for (const [name, fn] of reqs) {
      const refT = await pkLookup(sql, n);
      await timed(20, 1, fn);
      line(name, await timed(REQUESTS, 1, fn), refT);
    }

    // 3. reconciliation, the expiry sweep and a fan-out, with the inbound path running meanwhile
    const quiet = performance.now() + 4000;
    const alone = summarize(await inbound.drive(chats.slice(0, 4), () => performance.now() > quiet), 4000);
    const busy = async (work: () => Promise<Record<string, unknown>>) => {
      let done = false;
      const t = performance.now();
      const [extra, l] = await Promise.all([work().finally(() => (done = true)), inbound.drive(chats.slice(0, 4), () => done)]);
      return { ms: performance.now() - t, extra, inbound: summarize(l, performance.now() - t) };
    };
    const inboundRef = { what: 'inbound path alone, 4 chats', p50Ms: alone.p50Ms, p99Ms: alone.p99Ms, perSec: alone.perSec };
    for (const [workload, work] of [
      ['reconcile-ledger-check', () => reconcileAll(inbound.ledger)],
      ['reconcile-full-ranges', () => reconcileFull(sql)],
      ['expiry-sweep', async () => {
        const res = await inbound.ledger.expireDueLots(new Date(Date.now() + 2.5 * 86_400_000));
        return { lots: res.count };
      }],
      ['fanout-all', async () => {
        const rss = rssSampler();
        const res = await fanOutAll(sql, programId);
        return { ...res, peakRssMb: rss.stop() };
      }],
      // what the sweep, the fan-out's minutes of redemptions and the runs above changed
      ['reconcile-changes', () => reconcileChanges(sql)],
    ] as Array<[string, () => Promise<Record<string, unknown>>]>) {
      const b = await busy(work);
      const units = Number(b.extra.lots ?? b.extra.deliveries ?? b.extra.transfers ?? 1);
      print({ workload, participants: n, ms: Math.round(b.ms), perSec: r((units / b.ms) * 1000, 1), ...b.extra,
              inboundP50Ms: b.inbound.p50Ms, inboundP99Ms: b.inbound.p99Ms, inboundPerSec: b.inbound.perSec,
              reference: inboundRef });
    }

    const size = await storage(sql);
    const [c] = await sql<{ entries: number; transfers: number; redemptions: number; codes: number }[]>`
      select (select count(*) from ledger_entries)::int as entries, (select count(*) from ledger_transfers)::int as transfers,
             (select count(*) from code_redemptions)::int as redemptions,
             (select count(*) from codes)::int as codes`;
    const sum = (...t: string[]) => t.reduce((a, x) => a + (size[x] ?? 0), 0);
    const perParticipant = sum('participants', 'channel_identities', 'conversations', 'ledger_accounts', 'consents');
    const ledger = sum('ledger_entries', 'ledger_transfers', 'ledger_lots', 'ledger_lot_allocations');
    print({ workload: 'storage', participants: n, entries: c!.entries, transfers: c!.transfers, databaseMb: r(size.database! / 1048576, 1),
            bytesPerParticipant: Math.round(perParticipant / n), bytesPerLedgerEntry: Math.round(ledger / c!.entries),
            bytesPerRedemption: Math.round(sum('code_redemptions') / c!.redemptions), bytesPerCode: Math.round(sum('codes') / c!.codes),
            tablesMb: Object.fromEntries(Object.entries(size).filter(([, v]) => v > 4 << 20).map(([k, v]) => [k, r(v / 1048576, 1)])) });
  } finally {
    await db.drop();
  }
}

const participantIdOf = (i: number) => {
  // md5('p' || i)::uuid, as the seed writes it
  const h = createHash('md5').update(`p${i}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
for (const n of SIZES) await runSize(n);
