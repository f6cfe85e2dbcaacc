import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Sql } from '../../db/sql.js';
import { pipelinedTransaction } from '../../db/pipelined-transaction.js';

/** Messages waiting longer than this to be committed: they are not flowing (ms). */
export const BACKLOG_LIMIT_MS = 20_000;

export interface ReadinessDetail {
  ok: boolean;
  state?: string;
  error?: string;
}

const within = <T>(ms: number, p: Promise<T>): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);

export async function healthRoutes(
  app: FastifyInstance,
  opts: {
    sql: Sql;
    redis: Redis;
    details?: () => Promise<Record<string, ReadinessDetail>>;
    /** Age of the oldest inbound message not yet committed (the dialog engine's backlogMs). */
    backlogMs?: () => number;
  },
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
    // The database through the message path's own kind of transaction (a reserved connection,
    // BEGIN and COMMIT pipelined): a pool that answers `select 1` while reserved connections hang
    // is what left intake stuck behind a 200 (issue 25).
    const [database, redis] = await Promise.all([
      check(() => pipelinedTransaction(opts.sql, async (tx) => ({ value: await tx`select 1` }), { deadlineMs: 2000 })),
      check(() => opts.redis.ping()),
    ]);
    const backlog = opts.backlogMs?.() ?? 0;
    const messages: ReadinessDetail =
      backlog > BACKLOG_LIMIT_MS ? { ok: false, error: `the oldest message has waited ${Math.round(backlog / 1000)} s` } : { ok: true };
    const extra = opts.details ? await opts.details().catch(() => ({})) : {};
    const ok = database.ok && redis.ok && messages.ok;
    return reply.code(ok ? 200 : 503).send({ ok, checks: { database, redis, messages, ...extra } });
  });
}
