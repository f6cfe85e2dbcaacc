/**
 * The fault suite (issue 25): the whole service (`startPunkto`, Telegram long polling against the
 * fake Bot API) on a Postgres and a redis-server of its own (./instances.ts), under a burst of code
 * messages and a broadcast, through four faults: the service's backends terminated, Postgres
 * restarted, Redis flushed, Redis stopped for 20 s. After each: every code message has exactly one
 * credit and one delivered reply, no broadcast recipient got a broadcast twice, a broadcast
 * scheduled for a moment during the fault still went out, the ledger check is ok, /readyz told the
 * truth, and nothing escaped as an uncaught exception. The recovery times it measures are printed
 * as JSON lines (the README's "Faults and recovery" gives them).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import postgres from 'postgres';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startPunkto, type Punkto } from '../../src/main.js';
import { startFakeTelegram, type FakeTelegram, type FakeUser } from '../fakes/telegram-server.js';
import { seedTelegramParticipants, waitFor, type Seeded } from '../e2e/broadcast-seed.js';
import { startPg, startRedis, type PgInstance, type RedisInstance } from './instances.js';

const PARTICIPANTS = 30;
const CODES_PER_PHASE = 60; // two per participant, sent at ~80/s while the fault happens
const POINTS = 50;
const ADMIN_TOKEN = 'fault-suite-admin-token-0123456789';

let pg: PgInstance;
let redis: RedisInstance;
let tg: FakeTelegram;
let dataDir: string;
let punkto: Punkto;
let seeded: Seeded;
let users: FakeUser[];
let codes: string[];
let admin: postgres.Sql;
const logLines: Array<Record<string, unknown>> = [];
const escaped: unknown[] = [];
const onEscape = (e: unknown) => escaped.push(e);
const readiness: Array<{ at: number; done: number; status: number }> = [];
let monitoring = true;
let monitor: Promise<void>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const api = async (method: string, route: string, body?: unknown) => {
  const res = await fetch(`${punkto.url}/api/v1${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  [pg, redis, tg] = await Promise.all([startPg(), startRedis(), startFakeTelegram()]);
  dataDir = await mkdtemp(path.join(tmpdir(), 'punkto-fault-'));
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config = loadConfig({
    DATABASE_URL: pg.url,
    REDIS_URL: redis.url,
    DATA_DIR: dataDir,
    PORT: '0',
    ADMIN_TOKEN,
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_RATE_PER_SECOND: '200',
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
  });
  punkto = await startPunkto(config, pino({ level: 'info' }, sink));
  admin = postgres(pg.url, { max: 1, onnotice: () => undefined });
  seeded = await seedTelegramParticipants(punkto.sql, PARTICIPANTS, { base: 7_700_000 });
  users = [...seeded.chats.keys()].map((chat) => tg.user(Number(chat)));
  const campaign = await api('POST', '/campaigns', {
    name: { pl: 'Awaria', pt: 'Falha', be: 'Збой' },
    startsAt: '2026-01-01T00:00:00Z',
    endsAt: '2030-01-01T00:00:00Z',
    status: 'active',
  });
  const batch = await api('POST', `/campaigns/${campaign.json.id as string}/code-batches`, { count: CODES_PER_PHASE * 4, points: POINTS });
  expect(batch.status).toBe(201);
  codes = batch.json.codes as string[];
  monitor = (async () => {
    while (monitoring) {
      const at = Date.now();
      const status = await fetch(`${punkto.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).then(
        (r) => r.status,
        () => 0,
      );
      readiness.push({ at, done: Date.now(), status });
      await sleep(250);
    }
  })();
}, 120_000);

afterAll(async () => {
  monitoring = false;
  await monitor;
  const stopping = Date.now();
  await punkto?.stop();
  // A shutdown that needs no kill timeout: well under closeWithGrace's 15 s.
  console.log(JSON.stringify({ test: 'fault suite', shutdownMs: Date.now() - stopping }));
  await admin?.end({ timeout: 1 });
  await tg?.close();
  await Promise.all([pg?.destroy(), redis?.destroy()]);
  await rm(dataDir, { recursive: true, force: true });
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
}, 60_000);

interface Fault {
  name: string;
  /** Starts the fault; resolves when the dependency is back (the moment recovery is measured from). */
  run(): Promise<void>;
  /** The dependency is away between these two moments: /readyz must not say 200 then. */
  away?: { from: number; to: number };
}

const redisCli = (...args: string[]) => spawnSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' });

const FAULTS: Fault[] = [
  {
    name: 'terminate backends',
    async run() {
      for (let i = 0; i < 3; i++) {
        await admin`select pg_terminate_backend(pid) from pg_stat_activity where application_name like 'punkto:%'`;
        await sleep(400);
      }
    },
  },
  {
    name: 'restart postgres',
    async run(this: Fault) {
      await pg.stop();
      const from = Date.now();
      await sleep(5_000);
      this.away = { from, to: Date.now() };
      await pg.start();
    },
  },
  {
    name: 'redis flushall',
    async run() {
      expect(redisCli('flushall').stdout.trim()).toBe('OK');
    },
  },
  {
    name: 'redis stopped 20 s',
    async run(this: Fault) {
      await redis.stop();
      const from = Date.now();
      await sleep(20_000);
      this.away = { from, to: Date.now() };
      await redis.start();
    },
  },
];

const repliesFor = (user: FakeUser, code: string) => tg.messagesTo(user.id).filter((m) => (m.text ?? '').includes(code)).length;

describe('the service survives Postgres and Redis going away', () => {
  FAULTS.forEach((fault, phase) => {
    it(`${fault.name}: every message one effect and one reply, each broadcast once, nothing escapes`, { timeout: 150_000 }, async () => {
      const phaseCodes = codes.slice(phase * CODES_PER_PHASE, (phase + 1) * CODES_PER_PHASE);
      const marker = `fault-${phase}`;
      // A broadcast now, and one due while the fault happens.
      const now = await api('POST', '/broadcasts', { message: { pl: `${marker} teraz`, pt: `${marker} agora`, be: `${marker} зараз` } });
      expect(now.status).toBe(201);
      const later = await api('POST', '/broadcasts', {
        message: { pl: `${marker} później`, pt: `${marker} depois`, be: `${marker} пазней` },
        sendAt: new Date(Date.now() + 1_500).toISOString(),
      });
      expect(later.status).toBe(201);
      // The burst: one code message every 12 ms, round the participants.
      const burst = (async () => {
        for (let i = 0; i < phaseCodes.length; i++) {
          users[i % users.length]!.text(phaseCodes[i]!);
          await sleep(12);
        }
      })();
      await sleep(300);
      await fault.run();
      const back = Date.now();
      await burst;

      // Recovery: every update acknowledged, every code answered, both broadcasts done.
      await waitFor('every update acknowledged', async () => tg.pendingUpdates() === 0, 90_000);
      const intakeMs = Date.now() - back;
      await waitFor(
        'one reply to every code',
        async () => phaseCodes.every((code, i) => repliesFor(users[i % users.length]!, code) >= 1),
        90_000,
        250,
      ).catch((e: unknown) => {
        // Say which codes went unanswered and what their senders were told, so a failure explains itself.
        const missing = phaseCodes.flatMap((code, i) => (repliesFor(users[i % users.length]!, code) >= 1 ? [] : [{ code, user: users[i % users.length]!.id }]));
        const told = [...new Set(missing.map((m) => m.user))].slice(0, 3).map((u) => ({ user: u, texts: tg.messagesTo(u).map((m) => m.text).slice(-6) }));
        console.log(JSON.stringify({ test: 'fault suite', fault: fault.name, unanswered: missing.length, told, lastErrors: logLines.filter((l) => Number(l.level) >= 50).slice(-5) }));
        throw e;
      });
      const repliedMs = Date.now() - back;
      for (const b of [now, later]) {
        await waitFor(`broadcast ${b.json.id as string} done`, async () => (await api('GET', `/broadcasts/${b.json.id as string}`)).json.status === 'done', 90_000, 250);
      }
      const broadcastsMs = Date.now() - back;
      await waitFor('ready', async () => readiness.some((r) => r.at > back && r.status === 200), 30_000);
      const readyMs = readiness.find((r) => r.at > back && r.status === 200)!.at - back;
      await sleep(1_500); // late duplicates, if any, would arrive now

      // Exactly one reply per code, each broadcast once per recipient.
      phaseCodes.forEach((code, i) => expect(repliesFor(users[i % users.length]!, code), code).toBe(1));
      for (const user of users) {
        const texts = tg.messagesTo(user.id).map((m) => m.text ?? '');
        expect(texts.filter((t) => t.startsWith(`${marker} `) && /teraz|agora|зараз/.test(t)), `chat ${user.id}`).toHaveLength(1);
        expect(texts.filter((t) => t.startsWith(`${marker} `) && /później|depois|пазней/.test(t)), `chat ${user.id}`).toHaveLength(1);
      }
      // Exactly one credit per code: balances are the codes sent so far, and the ledger reconciles.
      const perUser = new Map<number, number>();
      codes.slice(0, (phase + 1) * CODES_PER_PHASE).forEach((_, i) => {
        const id = users[i % users.length]!.id;
        perUser.set(id, (perUser.get(id) ?? 0) + POINTS);
      });
      for (const [chat, { participantId }] of seeded.chats) {
        const p = await api('GET', `/participants/${participantId}`);
        expect((p.json.balance as { available: number }).available, `chat ${chat}`).toBe(perUser.get(Number(chat)));
      }
      expect((await api('GET', '/ledger/check')).json).toMatchObject({ ok: true });

      // /readyz never said 200 while the dependency was away: no request asked a moment after it
      // left and answered before it returned.
      if (fault.away) {
        const within = (r: { at: number; done: number }) => r.at > fault.away!.from + 500 && r.done < fault.away!.to;
        expect(readiness.filter((r) => within(r) && r.status === 200)).toEqual([]);
        expect(readiness.some((r) => within(r) && r.status === 503)).toBe(true);
      }
      expect(escaped).toEqual([]);
      console.log(JSON.stringify({ test: 'fault suite', fault: fault.name, readyMs, intakeMs, repliedMs, broadcastsMs }));
    });
  });

  it('logs each outage as one incident line, not a line per failed call', () => {
    const opened = logLines.filter((l) => typeof l.incident === 'string' && /unavailable$/.test(String(l.msg)));
    const closed = logLines.filter((l) => typeof l.incident === 'string' && /available again$/.test(String(l.msg)));
    expect(opened.some((l) => l.incident === 'database')).toBe(true);
    expect(opened.some((l) => l.incident === 'redis')).toBe(true);
    expect(closed.length).toBeGreaterThan(0);
    // Four faults: a handful of incident lines each, not hundreds.
    expect(opened.length).toBeLessThan(40);
    expect(logLines.filter((l) => l.level === 50).length).toBeLessThan(40);
    expect(escaped).toEqual([]);
  });
});
