/**
 * A broadcast survives its worker process dying: a real child process sends through the fake
 * Telegram server, is killed mid-broadcast (SIGKILL: a crash; SIGTERM: a deploy), and a new
 * process finishes from the delivery rows. Nobody is left out; after a graceful stop nobody gets a
 * second message, and after a crash only a send that was on the wire at the moment of the kill can
 * arrive twice (Telegram has no idempotency key), which the test bounds by the rows that were
 * claimed at that moment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { clearPrefix, testQueuePrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-server.js';
import * as repo from '../../src/db/broadcasts/repo.js';
import * as deliveries from '../../src/db/broadcasts/deliveries-repo.js';
import { seedTelegramParticipants, waitFor } from './broadcast-seed.js';

const RATE = 60;
const CHILD = fileURLToPath(new URL('./broadcast-child.ts', import.meta.url));

let db: TestDatabase;
let tg: FakeTelegram;
let prefix: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
beforeEach(async () => {
  prefix = testQueuePrefix();
  tg = await startFakeTelegram();
  tg.limitRate(RATE, 1);
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await tg.close();
  await clearPrefix(prefix);
});
afterAll(async () => {
  await db.drop();
});

async function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      PREFIX: prefix,
      TG_TOKEN: tg.token,
      TG_API_ROOT: tg.apiRoot,
      RATE: String(RATE),
      STALE_MS: '1500',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  });
  return child;
}

const exited = (child: ChildProcess) => new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));

async function broadcastTo(n: number, base: number) {
  const seeded = await seedTelegramParticipants(db.sql, n, { base });
  const [program] = await db.sql<{ id: string }[]>`select id from programs where slug = 'default'`;
  const b = await repo.insert(db.sql, {
    programId: program!.id,
    kind: 'manual',
    message: { texts: { pl: 'Ogłoszenie', pt: 'Anúncio', be: 'Аб’ява' } },
    audience: { participantIds: [...seeded.chats.values()].map((p) => p.participantId) },
  });
  return { seeded, id: b!.id };
}

const doneCounts = (id: string) =>
  waitFor(
    'broadcast done',
    async () => {
      const [b] = await db.sql<{ status: string }[]>`select status from broadcasts where id = ${id}`;
      return b?.status === 'done' ? deliveries.counts(db.sql, id) : undefined;
    },
    60_000,
  );

describe('broadcast worker killed mid-way and restarted', () => {
  it('after a crash (SIGKILL) loses nobody; a second copy only for a send in flight at the kill', async () => {
    const { seeded, id } = await broadcastTo(300, 800_000);
    const first = await startWorkerProcess();
    await waitFor('a third sent', async () => tg.sent.length >= 100, 30_000, 5);
    first.kill('SIGKILL');
    await exited(first);
    const claimedAtKill = await db.sql<{ chatId: string }[]>`
      select chat_id from broadcast_deliveries where broadcast_id = ${id} and status = 'sending'`;
    const sentAtKill = tg.sent.length;
    expect(sentAtKill).toBeLessThan(300);

    const second = await startWorkerProcess();
    const counts = await doneCounts(id);
    second.kill('SIGTERM');
    await exited(second);

    expect(counts).toMatchObject({ total: 300, sent: 300, failed: 0 });
    const claimed = new Set(claimedAtKill.map((r) => r.chatId));
    const texts = { pl: 'Ogłoszenie', pt: 'Anúncio', be: 'Аб’ява' };
    for (const [chat, p] of seeded.chats) {
      const got = tg.messagesTo(chat).map((m) => m.text);
      expect(got.length, `chat ${chat}`).toBeGreaterThanOrEqual(1);
      expect(new Set(got), `chat ${chat}`).toEqual(new Set([texts[p.locale === 'pt-PT' ? 'pt' : p.locale]]));
      if (got.length > 1) {
        expect(claimed.has(chat), `duplicate to ${chat}, which was not claimed at the kill`).toBe(true);
        expect(got.length).toBe(2);
      }
    }
    expect(tg.calls.filter((c) => c.status === 429)).toHaveLength(0);
  }, 90_000);

  it('after a graceful stop (SIGTERM) resumes with exactly one message each', async () => {
    const { seeded, id } = await broadcastTo(240, 900_000);
    const first = await startWorkerProcess();
    await waitFor('some sent', async () => tg.sent.length >= 80, 30_000, 5);
    first.kill('SIGTERM');
    await exited(first);
    const claimedAfterStop = await db.sql`
      select 1 from broadcast_deliveries where broadcast_id = ${id} and status = 'sending'`;
    expect(claimedAfterStop).toHaveLength(0);
    expect(tg.sent.length).toBeLessThan(240);

    const second = await startWorkerProcess();
    const counts = await doneCounts(id);
    second.kill('SIGTERM');
    await exited(second);

    expect(counts).toMatchObject({ total: 240, sent: 240 });
    for (const chat of seeded.chats.keys()) expect(tg.messagesTo(chat), `chat ${chat}`).toHaveLength(1);
    expect(tg.sent).toHaveLength(240);
  }, 90_000);
});
