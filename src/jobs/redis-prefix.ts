/**
 * The prefix of every queue and key in Redis. Two deployments sharing one Redis (staging beside
 * production, an agency's clients) must never take each other's jobs, so without REDIS_PREFIX it
 * is derived from the database: the same database gives the same prefix (workers and web processes
 * of one deployment agree), another database another one.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../db/sql.js';
import { databaseIdentity } from '../db/database-identity.js';

export async function resolveRedisPrefix(db: Db, configured: string | undefined): Promise<string> {
  if (configured) return configured;
  return `punkto-${createHash('sha256').update(await databaseIdentity(db)).digest('hex').slice(0, 12)}`;
}
