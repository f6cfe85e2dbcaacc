/**
 * The WhatsApp wiring in main.ts, with the real whatsapp-web.js client and a chromium that is not
 * there: the service still starts and stays ready, and WhatsApp's state shows in /readyz and the
 * admin API — in one process (ROLE=all), and across a web process and a ROLE=whatsapp process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { startPunkto, type Punkto } from '../../../src/main.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { testLogger } from '../../helpers/logger.js';
import { TEST_REDIS_URL } from '../../helpers/redis.js';

const ADMIN_TOKEN = 'wa-main-test-token-0123456789';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

let db: TestDatabase;
let dataDir: string;
const running: Punkto[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'punkto-wa-main-'));
});
afterAll(async () => {
  for (const p of running.reverse()) await p.stop();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function start(role: 'all' | 'web' | 'whatsapp'): Promise<Punkto> {
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    DATA_DIR: path.join(dataDir, role),
    PORT: '0',
    ADMIN_TOKEN,
    ROLE: role,
    WHATSAPP_ENABLED: 'true',
    CHROMIUM_PATH: '/nonexistent/chromium',
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
  });
  const p = await startPunkto(config, testLogger());
  running.push(p);
  return p;
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('WhatsApp in main.ts', () => {
  it('ROLE=all: a client that cannot start is reported, and the service stays ready', { timeout: 60_000 }, async () => {
    const p = await start('all');
    await expect
      .poll(async () => (await get(`${p.url}/readyz`)).body.checks?.whatsapp?.state, { timeout: 30_000 })
      .toBe('disconnected');
    const ready = await get(`${p.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body.checks.whatsapp).toMatchObject({ ok: false, error: expect.stringContaining('start failed') });
    const status = await get(`${p.url}/api/v1/channels/whatsapp`, auth);
    expect(status.body).toMatchObject({ enabled: true, state: 'disconnected', qr: null });
    await p.stop();
    running.splice(running.indexOf(p), 1);
  });

  it('ROLE=web shows what the ROLE=whatsapp process publishes', { timeout: 60_000 }, async () => {
    await db.sql`delete from whatsapp_status`;
    const web = await start('web');
    // Nobody has reported yet: unknown, not a guess.
    expect((await get(`${web.url}/api/v1/channels/whatsapp`, auth)).body).toMatchObject({ enabled: true, state: 'unknown' });
    const whatsapp = await start('whatsapp');
    expect(whatsapp.url).toBeUndefined();
    await expect
      .poll(async () => (await get(`${web.url}/api/v1/channels/whatsapp`, auth)).body.state, { timeout: 30_000 })
      .toBe('disconnected');
    expect((await get(`${web.url}/readyz`)).body.checks.whatsapp).toMatchObject({ ok: false, state: 'disconnected' });
  });
});
