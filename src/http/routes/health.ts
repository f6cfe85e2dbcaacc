import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Sql } from '../../db/sql.js';

export interface ReadinessDetail {
  ok: boolean;
  state?: string;
  error?: string;
}

const within = <T>(ms: number, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);

export async function healthRoutes(
  app: FastifyInstance,
  opts: { sql: Sql; redis: Redis; details?: () => Promise<Record<string, ReadinessDetail>> },
): Promise<void> {
  app.get('/healthz', { config: { rateLimit: false }, schema: { hide: true } }, async () => ({ ok: true }));

  app.get('/readyz', { config: { rateLimit: false }, schema: { hide: true } }, async (_request, reply) => {
    const check = async (fn: () => Promise<unknown>): Promise<ReadinessDetail> => {
      try {
        await within(2000, fn());
        return { ok: true };
      } catch (error) {
        return { ok: false, error: (error as Error).message };
      }
    };
    const [database, redis] = await Promise.all([check(() => opts.sql`select 1`), check(() => opts.redis.ping())]);
    const extra = opts.details ? await opts.details().catch(() => ({})) : {};
    const ok = database.ok && redis.ok;
    return reply.code(ok ? 200 : 503).send({ ok, checks: { database, redis, ...extra } });
  });
}
