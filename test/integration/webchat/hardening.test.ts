/**
 * The web chat against the attack (issue 22): sessions only from the server, limits per session
 * and per address behind a proxy, photos only from registered participants (real images, once per
 * id, within a quota, never kept in Postgres), one phone one account, both sides of the conversation
 * after a reload, the page's CSP, clean text, long polls that wake on NOTIFY and end at shutdown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { buildEngine, clearPrefix, createTestDatabase, i18n, logger, startSender, testQueuePrefix, until, type TestDatabase } from '../../helpers/dialog-harness.js';
import { TEST_REDIS_URL } from '../../helpers/redis.js';
import { buildServer } from '../../../src/http/server.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';
import { webchatRoutes } from '../../../src/http/routes/webchat.js';
import { createWebAdapter, type WebMessage } from '../../../src/channels/web/adapter.js';
import type { OutboxSender } from '../../../src/jobs/outbox/sender.js';
import type { Inbound } from '../../../src/dialog/types.js';
import { createPollWaiters } from '../../../src/http/web-poll.js';

let db: TestDatabase;
let app: FastifyInstance;
let redis: Redis;
let sender: OutboxSender;
const seen: Inbound[] = [];
const prefix = testQueuePrefix();

async function makeApp(extra: { ratePerMinute?: number; photoQuota?: { photos: number; bytes: number } } = {}) {
  const { engine } = buildEngine(db.sql);
  const watched = { ...engine, receive: (inbound: Inbound) => (seen.push(inbound), engine.receive(inbound)) };
  return buildServer({
    logger,
    sql: db.sql,
    redis,
    adminTokens: createAdminTokens({ sql: db.sql }),
    trustProxy: 1,
    publicRoutes: [webchatRoutes({ sql: db.sql, engine: watched, i18n, defaultLocale: 'pl', ...extra })],
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await makeApp({ photoQuota: { photos: 2, bytes: 10 * 1024 * 1024 } });
  sender = await startSender(db.sql, [createWebAdapter({ sql: db.sql })], prefix);
});
afterAll(async () => {
  await sender?.close();
  await app?.close();
  redis?.disconnect();
  await clearPrefix(prefix);
  await db?.drop();
});

const jpeg = (seed = 1) => sharp({ create: { width: 16, height: 16, channels: 3, background: { r: seed, g: 80, b: 90 } } }).jpeg().toBuffer();

async function browser(target = app, ip = '198.51.100.7') {
  const session = await target.inject({ method: 'POST', url: '/chat/api/session', payload: {}, headers: { 'x-forwarded-for': ip } });
  expect(session.statusCode).toBe(201);
  const token = session.json<{ token: string }>().token;
  const headers = { 'x-chat-token': token, 'accept-language': 'pl', 'x-forwarded-for': ip };
  let n = 0;
  let after = 0;
  const b = {
    token,
    headers,
    say: (body: Record<string, string>) => target.inject({ method: 'POST', url: '/chat/api/messages', headers, payload: { id: `m${++n}`, ...body } }),
    photo: (bytes: Buffer, id = `p${++n}`) =>
      target.inject({ method: 'POST', url: `/chat/api/photo?id=${id}`, headers: { ...headers, 'content-type': 'image/jpeg' }, payload: bytes }),
    all: async () => (await target.inject({ url: '/chat/api/messages?after=0', headers })).json<{ messages: WebMessage[] }>().messages,
    /** Waits for the bot's next message(s) ending with one that matches. */
    read: async (last: (m: WebMessage) => boolean = () => true) => {
      const got: WebMessage[] = [];
      await until(async () => {
        const { messages } = (await target.inject({ url: `/chat/api/messages?after=${after}&wait=1`, headers })).json<{ messages: WebMessage[] }>();
        for (const m of messages) {
          after = Math.max(after, m.id);
          if (m.from !== 'me') got.push(m);
        }
        return got.length > 0 && last(got.at(-1)!);
      });
      return got;
    },
    async register(phone: string, name = 'Ola') {
      await b.say({ text: '/start' });
      await b.read((m) => Boolean(m.choices?.length));
      await b.say({ choice: 'reg:consent_yes', label: 'Tak' });
      await b.read();
      await b.say({ text: phone });
      const asked = await b.read();
      if (!asked.at(-1)!.text.includes('imię')) return asked.map((m) => m.text).join('\n');
      await b.say({ text: name });
      await b.read((m) => Boolean(m.choices?.length));
      await b.say({ choice: 'reg:role:consumer', label: 'Klient' });
      await b.read((m) => Boolean(m.choices?.length));
      return undefined;
    },
  };
  return b;
}

describe('sessions', () => {
  it('a token the server did not issue is no session', async () => {
    const made = { 'x-chat-token': 'aaaaaaaaaaaaaaaaaaaa', 'content-type': 'application/json' };
    expect((await app.inject({ method: 'POST', url: '/chat/api/messages', headers: made, payload: { id: 'x', text: '/start' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/chat/api/messages', headers: made })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/chat/api/photo?id=x', headers: { ...made, 'content-type': 'image/jpeg' }, payload: await jpeg() })).statusCode).toBe(401);
  });

  it('session creation is limited per address (behind the proxy, per client)', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push((await app.inject({ method: 'POST', url: '/chat/api/session', payload: {}, headers: { 'x-forwarded-for': '192.0.2.50' } })).statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(10);
    expect(codes.at(-1)).toBe(429);
    expect((await app.inject({ method: 'POST', url: '/chat/api/session', payload: {}, headers: { 'x-forwarded-for': '192.0.2.51' } })).statusCode).toBe(201);
  });

  it('messages are limited per session: one noisy session does not shut the chat for its neighbours', async () => {
    const small = await makeApp({ ratePerMinute: 3 });
    const noisy = await browser(small, '192.0.2.80');
    const victim = await browser(small, '192.0.2.80');
    for (let i = 0; i < 3; i++) expect((await noisy.say({ text: 'x' })).statusCode).toBe(200);
    expect((await noisy.say({ text: 'x' })).statusCode).toBe(429);
    expect((await victim.say({ text: '/start' })).statusCode).toBe(200);
    await small.close();
  });
});

describe('photos', () => {
  it('registered participants only; real images only; a repeat counted once; a daily quota; nothing kept in Postgres', async () => {
    const b = await browser();
    expect(await b.register('+48 600 700 801')).toBeUndefined();
    const notImage = await b.photo(Buffer.alloc(5000, 7));
    expect(notImage.statusCode).toBe(400);
    expect(notImage.json().details.text).toContain('To nie jest zdjęcie');
    const first = await b.photo(await jpeg(1), 'same');
    expect(first.statusCode, first.body).toBe(200);
    expect((await b.photo(await jpeg(1), 'same')).json()).toEqual({ status: 'duplicate' });
    expect((await b.photo(await jpeg(2))).statusCode).toBe(200);
    const over = await b.photo(await jpeg(3));
    expect(over.statusCode).toBe(429);
    expect(over.json().details.text).toContain('limit zdjęć');
    expect(await db.sql`select 1 from web_uploads`).toHaveLength(0);
    const [quota] = await db.sql<{ photos: number }[]>`select photos from web_photo_quota`;
    expect(quota!.photos).toBe(2);
  });
});

describe('one phone, one account', () => {
  it('a typed phone that belongs to someone else is refused, with a way forward', async () => {
    const owner = await browser();
    expect(await owner.register('+48 600 111 222', 'Alicja')).toBeUndefined();
    const impostor = await browser();
    expect(await impostor.register('600 111 222', 'Podszywacz')).toContain('już przypisany do innego konta');
    expect(await db.sql`select 1 from participants where phone = '+48600111222'`).toHaveLength(1);
  });
});

describe('the conversation', () => {
  it('after a reload both sides are there, in order, with the labels the participant tapped', async () => {
    const b = await browser();
    await b.register('+48 600 700 900', 'Bartek');
    const all = await b.all();
    const mine = all.filter((m) => m.from === 'me').map((m) => m.text);
    expect(mine).toEqual(['/start', 'Tak', '+48 600 700 900', 'Bartek', 'Klient']);
    const firstMine = all.findIndex((m) => m.from === 'me');
    const firstBot = all.findIndex((m) => m.from !== 'me');
    expect(firstMine).toBeLessThan(firstBot);
    expect(all.map((m) => m.id)).toEqual([...all.map((m) => m.id)].sort((x, y) => x - y));
  });

  it('NUL and control characters in a name are cleaned, not answered with the internal-error message', async () => {
    const b = await browser();
    await b.say({ text: '/start' });
    await b.read((m) => Boolean(m.choices?.length));
    await b.say({ choice: 'reg:consent_yes' });
    await b.read();
    await b.say({ text: '+48 600 700 333' });
    await b.read();
    await b.say({ text: 'Jan\u0000Kowal\u001b[31mski\ud800' });
    const answer = (await b.read()).map((m) => m.text).join('\n');
    expect(answer).not.toMatch(/Coś poszło nie tak/);
    expect((await db.sql`select name from participants where phone = '+48600700333'`)[0]!.name).toBe('JanKowalski\ufffd');
  });

  it('hands the client address (through TRUST_PROXY) to the dialog as the inbound network', async () => {
    const b = await browser(app, '203.0.113.99');
    await b.say({ text: '/start' });
    expect(seen.at(-1)!.network).toBe('203.0.113.99');
  });
});

describe('the page and long polls', () => {
  it('the page runs only its own inline script and style (CSP hashes), cannot be framed', async () => {
    const res = await app.inject('/chat');
    const csp = String(res.headers['content-security-policy']);
    const script = /<script>([\s\S]*?)<\/script>/.exec(res.body)![1]!;
    expect(csp).toContain(`'sha256-${createHash('sha256').update(script).digest('base64')}'`);
    expect(csp).not.toContain("'unsafe-inline'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('a long poll is woken by the new message, and shutdown ends open polls at once', async () => {
    const own = await makeApp();
    const b = await browser(own, '192.0.2.90');
    // inject() starts a request only once it is awaited: Promise.resolve starts it now.
    const poll = Promise.resolve(own.inject({ url: '/chat/api/messages?after=0&wait=20', headers: b.headers }));
    await new Promise((r) => setTimeout(r, 300));
    await b.say({ text: '/start' });
    expect((await poll).json().messages.length).toBeGreaterThan(0);
    const after = Math.max(...(await b.all()).map((m) => m.id)) + 1000;
    const open = Promise.resolve(own.inject({ url: `/chat/api/messages?after=${after}&wait=25`, headers: b.headers }));
    await new Promise((r) => setTimeout(r, 500));
    const closing = Date.now();
    await own.close();
    expect((await open).json()).toEqual({ messages: [] });
    // Not a speed check: without endAll the close waits for the poll's own 25 s.
    expect(Date.now() - closing).toBeLessThan(20_000);
  }, 60_000);

  it('open polls are capped per session and per address', () => {
    const polls = createPollWaiters(db.sql, { perSession: 2, perAddress: 3 });
    const a1 = polls.open('a', 'ip1');
    const a2 = polls.open('a', 'ip1');
    expect(a1 && a2).toBeTruthy();
    expect(polls.open('a', 'ip1')).toBeUndefined();
    expect(polls.open('b', 'ip1')).toBeDefined();
    expect(polls.open('c', 'ip1')).toBeUndefined();
    a1!();
    a1!();
    expect(polls.open('a', 'ip2')).toBeDefined();
  });
});
