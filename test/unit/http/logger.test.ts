import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../../src/http/server.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { TEST_REDIS_URL } from '../../helpers/redis.js';

const PHONE = '351912345678';

describe('HTTP server logging', () => {
  let db: TestDatabase;
  let redis: Redis;
  const lines: string[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    redis.disconnect();
    await db.drop();
  });

  it('writes request lines without the query string, whatever logger it is given', async () => {
    // A bare pino logger without our serializers: the server adds its own.
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const app = await buildServer({
      logger: pino({ level: 'info' }, stream),
      sql: db.sql,
      redis,
      adminTokens: createAdminTokens({ sql: db.sql }),
    });
    const res = await app.inject({ url: `/api/v1/whoami?search=${PHONE}` });
    expect(res.statusCode).toBe(401);
    await app.close();
    const incoming = lines.map((l) => JSON.parse(l)).find((r) => r.msg === 'incoming request');
    expect(incoming.req).toMatchObject({ method: 'GET', url: '/api/v1/whoami' });
    expect(lines.join('\n')).not.toContain(PHONE);
  });
});
