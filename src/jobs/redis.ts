import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../shared/logger.js';
import { incident } from '../shared/incidents.js';

export interface RedisConnections {
  /** Request path: fails fast when Redis is away instead of queueing commands forever. */
  client: Redis;
  /** For BullMQ workers and queues: BullMQ needs `maxRetriesPerRequest: null`. */
  bullmq: () => Redis;
  /** Prefix of every queue and key of this deployment (REDIS_PREFIX, or derived from the database). */
  prefix: string;
  close(): Promise<void>;
}

/**
 * Redis away: every connection retries on its own (ioredis reconnects with backoff, capped at 2 s so
 * work resumes soon after Redis returns); their errors go into one 'redis' incident line instead of
 * ioredis's "Unhandled error event" trace per reconnect attempt. A reconnect emits 'ready'
 * (jobs/repeating.ts re-creates the repeating jobs then).
 */
export function createRedisConnections(url: string, prefix = 'punkto', logger?: Logger): RedisConnections {
  const made: Redis[] = [];
  const retryStrategy = (times: number) => Math.min(100 * 2 ** times, 2000);
  const watch = (r: Redis) => {
    made.push(r);
    if (!logger) return r;
    r.on('error', (error: Error) => incident(logger, 'redis').fail(error));
    r.on('ready', () => incident(logger, 'redis').ok());
    return r;
  };
  const client = watch(new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 2000, lazyConnect: false, retryStrategy }));
  const bullOptions: RedisOptions = { maxRetriesPerRequest: null, retryStrategy };
  return {
    client,
    prefix,
    bullmq: () => watch(new Redis(url, bullOptions)),
    close: async () => {
      await Promise.all(made.map((r) => r.quit().catch(() => r.disconnect())));
    },
  };
}

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export interface RedisHandle {
  url: string;
  stop(): Promise<void>;
}

export const NO_REDIS_MESSAGE = (url: string) =>
  `No Redis answers at ${url}, and no redis-server is on the PATH to start one. Either install Redis ` +
  `(Debian/Ubuntu: apt-get install redis-server), point REDIS_URL at a running Redis, or run ` +
  `\`docker compose up -d redis\`.`;

/**
 * Makes sure a Redis answers at `url`. If none does and the URL is the local default, starts
 * `redis-server` as a child process with its files under `<dataDir>/redis`, stopped on shutdown.
 */
export async function ensureRedis(url: string, dataDir: string, logger: Logger): Promise<RedisHandle> {
  if (await answers(url)) return { url, stop: async () => undefined };
  const parsed = new URL(url);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(parsed.hostname);
  const hasBinary = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!local || !hasBinary) throw new Error(NO_REDIS_MESSAGE(url));
  const dir = path.resolve(dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const port = parsed.port || '6379';
  const child: ChildProcess = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', port, '--dir', dir, '--appendonly', 'yes', '--save', '', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 50; i++) {
    if (await answers(url)) {
      logger.info({ port, dir }, 'started redis-server');
      return {
        url,
        stop: async () => {
          if (child.exitCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        },
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(NO_REDIS_MESSAGE(url));
}
