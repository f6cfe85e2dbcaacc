/**
 * The reference every database benchmark reports against: `pgbench -b simple-update` on the same
 * server, in the same run, with the same client count. It creates its own database, initialises
 * it, runs, and drops it, so it never touches the database under test.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import postgres from 'postgres';

const run = promisify(execFile);

export const BENCH_SERVER_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface PgbenchOptions {
  /** Any database on the server; the run uses a database of its own next to it. */
  serverUrl?: string;
  clients: number;
  threads?: number;
  seconds: number;
  /** pgbench scale factor (100,000 accounts per unit). */
  scale?: number;
  /** pgbench builtin script (default simple-update). */
  builtin?: string;
}

export interface PgbenchResult {
  tps: number;
  latencyAvgMs: number | null;
  clients: number;
  seconds: number;
}

function connectionArgs(url: URL): { args: string[]; env: NodeJS.ProcessEnv } {
  const args = ['-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username || 'postgres')];
  const env = { ...process.env };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  return { args, env };
}

/** Parses pgbench's report: `tps = 6123.45 (without initial connection time)`. */
export function parsePgbenchOutput(out: string): { tps: number; latencyAvgMs: number | null } {
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out) ?? /tps = ([\d.]+)/.exec(out);
  if (!tps) throw new Error(`pgbench printed no tps:\n${out}`);
  const latency = /latency average = ([\d.]+) ms/.exec(out);
  return { tps: Number(tps[1]), latencyAvgMs: latency ? Number(latency[1]) : null };
}

/**
 * A CHECKPOINT before every measured run. The first change to a page after a checkpoint writes the
 * whole page to the WAL, so whichever run a timed or size-triggered checkpoint happened to fall in
 * paid several times the WAL of the other; starting each run (ours and pgbench's) right after one
 * puts them on the same footing. Needs superuser or pg_checkpoint; without it the runs go on as they are.
 */
export async function checkpoint(serverUrl = BENCH_SERVER_URL): Promise<void> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe('checkpoint');
  } catch {
    // not allowed to: measured without it
  } finally {
    await admin.end();
  }
}

export async function runPgbench(options: PgbenchOptions): Promise<PgbenchResult> {
  const server = new URL(options.serverUrl ?? BENCH_SERVER_URL);
  const database = `pgbench_${randomBytes(5).toString('hex')}`;
  const admin = postgres(server.toString(), { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database ${database}`);
  try {
    const { args, env } = connectionArgs(server);
    await run('pgbench', ['-i', '-q', '-s', String(options.scale ?? 1), ...args, database], { env });
    await checkpoint(server.toString());
    const { stdout } = await run(
      'pgbench',
      [
        '-n',
        '-b', options.builtin ?? 'simple-update',
        '-M', 'prepared',
        '-c', String(options.clients),
        '-j', String(options.threads ?? 2),
        '-T', String(options.seconds),
        ...args,
        database,
      ],
      { env, maxBuffer: 16 * 1024 * 1024 },
    );
    return { ...parsePgbenchOutput(stdout), clients: options.clients, seconds: options.seconds };
  } finally {
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
}
