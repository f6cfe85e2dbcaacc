import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import {
  buildEngine, clearPrefix, createTestDatabase, i18n, logger, startSender, testQueuePrefix, until, type TestDatabase,
} from '../../helpers/dialog-harness.js';
import { TEST_REDIS_URL } from '../../helpers/redis.js';
import { buildServer } from '../../../src/http/server.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';
import { webchatRoutes, localeFromAcceptLanguage } from '../../../src/http/routes/webchat.js';
import { participantRoutes } from '../../../src/http/routes/participants.js';
import { createWebAdapter } from '../../../src/channels/web/adapter.js';
import type { OutboxSender } from '../../../src/jobs/outbox/sender.js';
import type { WebMessage } from '../../../src/channels/web/adapter.js';

let db: TestDatabase;
let app: FastifyInstance;
let redis: Redis;
let sender: OutboxSender;
let adminToken: string;
let managerToken: string;
let viewerToken: string;
const prefix = testQueuePrefix();

beforeAll(async () => {
  db = await createTestDatabase();
  const { engine, participants, ledger } = buildEngine(db.sql);
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const adminTokens = createAdminTokens({ sql: db.sql });
  adminToken = (await adminTokens.create({ name: 'root', role: 'admin' })).token;
  managerToken = (await adminTokens.create({ name: 'maria', role: 'manager' })).token;
  viewerToken = (await adminTokens.create({ name: 'vic', role: 'viewer' })).token;
  app = await buildServer({
    logger,
    sql: db.sql,
    redis,
    adminTokens,
    publicRoutes: [webchatRoutes({ sql: db.sql, engine, i18n, defaultLocale: 'pl' })],
    apiRoutes: [participantRoutes({ sql: db.sql, participants, ledger })],
  });
  sender = await startSender(db.sql, [createWebAdapter({ sql: db.sql })], prefix);
});
afterAll(async () => {
  await sender?.close();
  await app?.close();
  redis?.disconnect();
  await clearPrefix(prefix);
  await db?.drop();
});

/** A browser session on the web chat. */
async function browser(acceptLanguage: string) {
  const session = await app.inject({ method: 'POST', url: '/chat/api/session', payload: {} });
  expect(session.statusCode).toBe(201);
  const token = session.json<{ token: string }>().token;
  let after = 0;
  let n = 0;
  const headers = { 'x-chat-token': token, 'accept-language': acceptLanguage };
  return {
    token,
    async say(body: { text: string } | { choice: string }) {
      const res = await app.inject({ method: 'POST', url: '/chat/api/messages', headers, payload: { id: `c${++n}`, ...body } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<{ status: string }>();
    },
    /** Waits until the bot's answer ends with a message matching `last`, returns the new messages. */
    async read(last: (m: WebMessage) => boolean = () => true): Promise<WebMessage[]> {
      const got: WebMessage[] = [];
      await until(async () => {
        const res = await app.inject({ method: 'GET', url: `/chat/api/messages?after=${after}&wait=1`, headers });
        const { messages } = res.json<{ messages: WebMessage[] }>();
        for (const m of messages) {
          after = Math.max(after, m.id);
          if (m.from !== 'me') got.push(m); // the participant's own side, kept for a reload
        }
        return got.length > 0 && last(got.at(-1)!);
      }, 10_000, 'bot answer');
      return got;
    },
    async upload(bytes: Buffer) {
      return app.inject({ method: 'POST', url: `/chat/api/photo?id=p${++n}`, headers: { ...headers, 'content-type': 'image/jpeg' }, payload: bytes });
    },
  };
}

const tinyJpeg = () => sharp({ create: { width: 16, height: 16, channels: 3, background: '#c33' } }).jpeg().toBuffer();
const choiceValues = (m: WebMessage | undefined) => (m?.choices ?? []).flat().map((c) => c.value);
const hasChoices = (m: WebMessage) => Boolean(m.choices?.length);

const JOURNEYS = [
  { lang: 'pl-PL,pl;q=0.9,en;q=0.8', phone: '600 100 300', expectPhone: '+48600100300', texts: { welcome: 'Witaj w programie', phone: 'numer telefonu', name: 'Jak masz na imię', done: 'Gotowe, Marta', balance: '0 punktów' }, name: 'Marta' },
  { lang: 'pt-PT,pt;q=0.9', phone: '+351 912 345 678', expectPhone: '+351912345678', texts: { welcome: 'Bem-vindo ao programa', phone: 'número de telefone', name: 'Como se chama', done: 'Pronto, Inês', balance: '0 pontos' }, name: 'Inês' },
  { lang: 'be-BY,be;q=0.9,ru;q=0.8', phone: '+375 29 123 45 67', expectPhone: '+375291234567', texts: { welcome: 'Вітаем у праграме', phone: 'нумар тэлефона', name: 'Як вас завуць', done: 'Гатова, Алеся', balance: '0 балаў' }, name: 'Алеся' },
] as const;

describe('web chat', () => {
  it('serves a self-contained page in the browser’s language', async () => {
    for (const [accept, lang, send] of [['pt-BR,pt', 'pt', 'Enviar'], ['be', 'be', 'Даслаць'], ['de-DE,pl;q=0.5', 'pl', 'Wyślij'], ['en', 'pl', 'Wyślij']] as const) {
      const res = await app.inject({ method: 'GET', url: '/chat', headers: { 'accept-language': accept } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain(`<html lang="${lang}">`);
      expect(res.body).toContain(send);
      expect(res.body).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // nothing from a CDN
    }
    expect(localeFromAcceptLanguage('en-US,be;q=0.3,pt;q=0.7', 'pl')).toBe('pt');
  });

  for (const j of JOURNEYS) {
    it(`registers through the HTTP interface in ${j.lang.slice(0, 2)}, with an unverified typed phone`, async () => {
      const b = await browser(j.lang);
      await b.say({ text: '/start' });
      const consent = await b.read(hasChoices);
      expect(consent.map((m) => m.text).join('\n')).toContain(j.texts.welcome);
      expect(choiceValues(consent.at(-1))).toEqual(['reg:consent_yes', 'reg:consent_no']);

      await b.say({ choice: 'reg:consent_yes' });
      const phoneAsk = await b.read();
      expect(phoneAsk.at(-1)!.text).toContain(j.texts.phone);
      expect(phoneAsk.at(-1)!.requestPhone).toBeDefined();

      await b.say({ text: j.phone });
      expect((await b.read()).at(-1)!.text).toContain(j.texts.name);
      await b.say({ text: j.name });
      const roles = await b.read(hasChoices);
      expect(choiceValues(roles.at(-1))).toContain('reg:role:consumer');
      await b.say({ choice: 'reg:role:consumer' });
      const done = await b.read(hasChoices);
      expect(done.map((m) => m.text).join('\n')).toContain(j.texts.done);
      expect(choiceValues(done.at(-1))).toContain('menu:balance');

      await b.say({ choice: 'menu:balance' });
      const balance = await b.read(hasChoices);
      expect(balance[0]!.text).toContain(j.texts.balance);

      const [p] = await db.sql<{ phone: string; phoneVerified: boolean; name: string }[]>`
        select phone, phone_verified, name from participants where name = ${j.name}`;
      expect(p).toEqual({ phone: j.expectPhone, phoneVerified: false, name: j.name });
    });
  }

  it('restarts mid-registration: the same session continues where it stopped', async () => {
    const b = await browser('pl');
    await b.say({ text: '/start' });
    await b.read(hasChoices);
    await b.say({ choice: 'reg:consent_yes' });
    await b.read();
    await b.say({ text: '+48 600 100 400' });
    await b.read();
    // A new engine and server (a restart), the same browser session token.
    const { engine } = buildEngine(db.sql);
    const app2 = await buildServer({
      logger, sql: db.sql, redis, adminTokens: createAdminTokens({ sql: db.sql }),
      publicRoutes: [webchatRoutes({ sql: db.sql, engine, i18n, defaultLocale: 'pl' })],
    });
    try {
      const res = await app2.inject({
        method: 'POST', url: '/chat/api/messages', headers: { 'x-chat-token': b.token }, payload: { id: 'after-restart', text: 'Tomek' },
      });
      expect(res.statusCode).toBe(200);
    } finally {
      await app2.close();
    }
    const roles = await b.read(hasChoices);
    expect(roles.at(-1)!.text).toContain('Kim jesteś');
  });

  it('ignores a repeated POST of the same message id', async () => {
    const b = await browser('pt');
    expect(await b.say({ text: '/start' })).toEqual({ status: 'handled' });
    const res = await app.inject({
      method: 'POST', url: '/chat/api/messages', headers: { 'x-chat-token': b.token }, payload: { id: 'c1', text: '/start' },
    });
    expect(res.json()).toEqual({ status: 'duplicate' });
  });

  it('refuses a photo from a session that has not registered, in its language, and stores nothing', async () => {
    const b = await browser('pl');
    await b.say({ text: '/start' });
    await b.read(hasChoices);
    const res = await b.upload(await tinyJpeg());
    expect(res.statusCode).toBe(403);
    expect(res.json().details.text).toContain('Najpierw dokończ rejestrację');
    expect(await db.sql`select 1 from web_uploads`).toHaveLength(0);
  });

  it('/mydata and /delete through the web chat: after erasure only the goodbye is left', async () => {
    const b = await browser('pt');
    await b.say({ text: '/start' });
    await b.read(hasChoices);
    await b.say({ choice: 'reg:consent_yes' });
    await b.read();
    await b.say({ text: '+351 913 000 111' });
    await b.read();
    await b.say({ text: 'Tiago' });
    await b.read(hasChoices);
    await b.say({ choice: 'reg:role:consumer' });
    await b.read(hasChoices);
    expect((await b.upload(await tinyJpeg())).statusCode).toBe(200);
    await b.read();
    await b.say({ text: '/mydata' });
    const data = (await b.read()).map((m) => m.text).join('\n');
    expect(data).toContain('Tiago');
    expect(data).toContain('+351913000111 (não confirmado)');
    await b.say({ text: '/delete' });
    expect(choiceValues((await b.read(hasChoices)).at(-1))).toEqual(['sys:delete_yes', 'sys:delete_no']);
    await b.say({ choice: 'sys:delete_yes' });
    await until(async () => {
      const res = await app.inject({ method: 'GET', url: '/chat/api/messages?after=0', headers: { 'x-chat-token': b.token } });
      const all = res.json<{ messages: WebMessage[] }>().messages;
      return all.length === 1 && all[0]!.text.includes('foram apagados');
    }, 10_000, 'only the goodbye left');
    const rows = await db.sql`select 1 from participants where name = 'Tiago'`;
    expect(rows).toHaveLength(0);
  });

  it('refuses API calls without a session and bad input', async () => {
    expect((await app.inject({ method: 'GET', url: '/chat/api/messages' })).statusCode).toBe(401);
    const b = await browser('pl');
    const bad = await app.inject({ method: 'POST', url: '/chat/api/messages', headers: { 'x-chat-token': b.token }, payload: { id: 'x', text: '' } });
    expect(bad.statusCode).toBe(400);
  });
});

describe('participants admin API', () => {
  it('lists and searches, shows one with its balance, adjusts with a reason (manager+), audit-logged', async () => {
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    const list = await app.inject({ method: 'GET', url: '/api/v1/participants?search=inê', headers: auth(viewerToken) });
    expect(list.statusCode).toBe(200);
    const { items, total } = list.json<{ items: Array<{ id: string; name: string }>; total: number }>();
    expect(total).toBe(1);
    expect(items[0]!.name).toBe('Inês');
    const byPhone = await app.inject({ method: 'GET', url: '/api/v1/participants?search=%2B351%20912', headers: auth(viewerToken) });
    expect(byPhone.json<{ items: Array<{ name: string }> }>().items.map((i) => i.name)).toEqual(['Inês']);
    const id = items[0]!.id;

    const forbidden = await app.inject({
      method: 'POST', url: `/api/v1/participants/${id}/adjustments`, headers: auth(viewerToken), payload: { amount: 10, reason: 'goodwill' },
    });
    expect(forbidden.statusCode).toBe(403);

    const adjusted = await app.inject({
      method: 'POST', url: `/api/v1/participants/${id}/adjustments`, headers: { ...auth(managerToken), 'idempotency-key': 'adj-1' },
      payload: { amount: 120, reason: 'Bonus for the fair' },
    });
    expect(adjusted.statusCode, adjusted.body).toBe(201);
    expect(adjusted.json<{ balance: { available: number } }>().balance.available).toBe(120);
    const replay = await app.inject({
      method: 'POST', url: `/api/v1/participants/${id}/adjustments`, headers: { ...auth(managerToken), 'idempotency-key': 'adj-1' },
      payload: { amount: 120, reason: 'Bonus for the fair' },
    });
    expect(replay.statusCode).toBe(200);
    const tooMuch = await app.inject({
      method: 'POST', url: `/api/v1/participants/${id}/adjustments`, headers: auth(adminToken), payload: { amount: -500, reason: 'mistake' },
    });
    expect(tooMuch.statusCode).toBe(422);

    const one = await app.inject({ method: 'GET', url: `/api/v1/participants/${id}`, headers: auth(viewerToken) });
    expect(one.statusCode).toBe(200);
    const body = one.json<{ name: string; balance: { available: number; pending: number; held: number }; channels: Array<{ channel: string }> }>();
    expect(body.name).toBe('Inês');
    expect(body.balance).toMatchObject({ available: 120, pending: 0, held: 0 });
    expect(body.channels.map((c) => c.channel)).toEqual(['web']);

    const audit = await db.sql`select actor, action from audit_log where target = ${`participant:${id}`}`;
    expect(audit).toEqual([{ actor: 'admin:maria', action: 'participant.adjust' }]);

    const blocked = await app.inject({ method: 'PATCH', url: `/api/v1/participants/${id}`, headers: auth(managerToken), payload: { status: 'blocked' } });
    expect(blocked.json<{ status: string }>().status).toBe('blocked');
    expect((await app.inject({ method: 'GET', url: `/api/v1/participants/00000000-0000-4000-8000-000000000000`, headers: auth(viewerToken) })).statusCode).toBe(404);
  });
});
