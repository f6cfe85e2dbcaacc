// Run by hand: npx tsx test/fault/driver-repro.ts <path to a postgres.js src/index.js>
// (the answer to issue 25's driver question is in the README, "Faults and recovery").
// Reproduction from issue 25: 16 workers doing reserve → begin → select → commit on a pool of 4
// while Postgres restarts (fast stop, up 5 s later); count the workers stuck 20 s after it is back.
// Also #1208: terminate a reserved connection's backend, then query it again.
import { startPg } from './instances.js';
const driverPath = process.argv[2]!;
const { default: postgres } = await import(driverPath);
const pg = await startPg();
const uncaught: string[] = [];
process.on('uncaughtException', (e) => uncaught.push(String(e)));
process.on('unhandledRejection', (e) => uncaught.push('rejection: ' + String(e)));
const sql = postgres(pg.url, { max: 4, onnotice: () => undefined });
let stop = false;
const lastProgress = new Array(16).fill(Date.now());
const state = new Array(16).fill('');
let ok = 0, failed = 0;
async function worker(i: number) {
  while (!stop) {
    try {
      state[i] = 'reserve';
      const r = await sql.reserve();
      try {
        state[i] = 'begin'; await r`begin`;
        state[i] = 'select'; await r`select pg_sleep(0.002)`;
        state[i] = 'commit'; await r`commit`;
        ok++;
      } catch (e) {
        state[i] = 'rollback'; await r`rollback`.catch(() => undefined);
        throw e;
      } finally { r.release(); }
    } catch { failed++; await new Promise((r) => setTimeout(r, 50)); }
    state[i] = 'idle';
    lastProgress[i] = Date.now();
  }
}
const workers = Array.from({ length: 16 }, (_, i) => worker(i));
await new Promise((r) => setTimeout(r, 2000));
await pg.stop();
await new Promise((r) => setTimeout(r, 5000));
await pg.start();
const back = Date.now();
await new Promise((r) => setTimeout(r, 20000));
const stuck = lastProgress.filter((t) => t < back + 15000).length;
console.log(JSON.stringify({ driver: driverPath, restart: { ok, failed, stuck, states: state.filter((s, i) => lastProgress[i] < back + 15000), uncaught: uncaught.length, first: uncaught[0] } }));
stop = true;
// #1208
const uncaughtBefore = uncaught.length;
const sql2 = postgres(pg.url, { max: 2, onnotice: () => undefined });
const killer = postgres(pg.url, { max: 1 });
const reserved = await sql2.reserve();
const [{ pid }] = await reserved`select pg_backend_pid() as pid`;
await killer`select pg_terminate_backend(${pid})`;
const a = await reserved`select 1`.then(() => 'ok', (e: Error) => (e as any).code ?? e.message);
const b = await Promise.race([reserved`select 1`.then(() => 'ok', (e: Error) => (e as any).code ?? e.message), new Promise((r) => setTimeout(() => r('hang'), 5000))]);
reserved.release();
const c = await Promise.race([sql2`select 1`.then(() => 'ok', (e: Error) => (e as any).code ?? e.message), new Promise((r) => setTimeout(() => r('hang'), 5000))]);
await new Promise((r) => setTimeout(r, 200));
console.log(JSON.stringify({ driver: driverPath, terminate: { first: a, second: b, poolAfter: c, uncaught: uncaught.length - uncaughtBefore, err: uncaught[uncaughtBefore] } }));
await pg.destroy();
process.exit(0);
