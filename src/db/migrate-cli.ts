/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded Postgres). */
import { loadConfig } from '../config.js';
import { createLogger } from '../shared/logger.js';
import { createSql } from './sql.js';
import { migrate } from './migrate.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

const config = loadConfig();
const logger = createLogger({ level: config.LOG_LEVEL, pretty: process.stdout.isTTY });
const embedded = config.DATABASE_URL ? undefined : await startEmbeddedPostgres(config.DATA_DIR, logger);
const sql = createSql(config.DATABASE_URL ?? embedded!.url, { max: 2 });
let exitCode = 0;
try {
  const { applied } = await migrate(sql);
  logger.info({ applied }, applied.length ? `applied ${applied.length} migration(s)` : 'schema is up to date');
} catch (error) {
  logger.error({ err: error }, 'migration failed; the schema is unchanged by the failing migration');
  exitCode = 1;
} finally {
  await sql.end({ timeout: 5 });
  await embedded?.stop();
}
process.exit(exitCode);
