import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { createWhatsAppAdapter, type WhatsAppAdapter, type WhatsAppAdapterDeps } from '../../../src/channels/whatsapp/adapter.js';
import { createMenuStore } from '../../../src/channels/whatsapp/menus.js';
import { createLidStore } from '../../../src/channels/whatsapp/lids.js';
import { createSentLedger } from '../../../src/channels/whatsapp/sent-ledger.js';
import { createPacer } from '../../../src/channels/whatsapp/pacing.js';
import { createWhatsAppSession, type WhatsAppSession } from '../../../src/channels/whatsapp/session.js';
import { createPostgresSessionStore } from '../../../src/channels/whatsapp/remote-auth-store.js';
import { createStatusBoard, localControl, remoteControl, whatsappReadiness } from '../../../src/channels/whatsapp/control.js';
import { whatsappChannelRoutes } from '../../../src/http/routes/whatsapp-channel.js';
import { buildServer } from '../../../src/http/server.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';
import { createI18n } from '../../../src/i18n/index.js';
import { fixedClock } from '../../../src/shared/clock.js';
import type { ChannelAddress, Inbound } from '../../../src/dialog/types.js';
import { createFakeWhatsApp, waMessage } from '../../fakes/whatsapp-client.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { testLogger } from '../../helpers/logger.js';
import { TEST_REDIS_URL } from '../../helpers/redis.js';

const PT = '351912345678';
const to: ChannelAddress = { channel: 'whatsapp', externalId: PT, chatId: `${PT}@c.us` };
const i18n = createI18n({ defaultLocale: 'pl' });

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('pacing and the daily cap', () => {
  beforeEach(async () => {
    await db.sql`delete from whatsapp_daily_sends`;
  });

  it('admits exactly the daily cap when many sends race, and tells the rest to come back tomorrow', async () => {
    const clock = fixedClock('2026-11-23T20:00:00Z');
    const pacer = createPacer({ db: db.sql, clock, options: { minDelayMs: 0, maxDelayMs: 0, dailyCap: 10, maxWaitMs: 60_000 } });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => pacer.run('reply', async () => i)));
    const admitted = results.filter((r) => r.admitted);
    expect(admitted).toHaveLength(10);
    for (const r of results.filter((x) => !x.admitted)) expect(r).toEqual({ admitted: false, retryAfterMs: 4 * 3600_000, why: 'daily_cap' });
    expect(await pacer.today()).toEqual({ replies: 10, broadcasts: 0, cap: 10 });
    // The counter lives in Postgres: a second process (or a restart) sees the same day as full.
    const other = createPacer({ db: db.sql, clock, options: { minDelayMs: 0, maxDelayMs: 0, dailyCap: 10 } });
    expect((await other.run('reply', async () => 1)).admitted).toBe(false);
    clock.set('2026-11-24T00:00:01Z');
    expect((await other.run('reply', async () => 1)).admitted).toBe(true);
  });

  it('holds the cap when several processes send at once (the counter is one atomic row update)', async () => {
    const clock = fixedClock('2026-11-25T08:00:00Z');
    const pacers = Array.from({ length: 4 }, () =>
      createPacer({ db: db.sql, clock, options: { minDelayMs: 0, maxDelayMs: 0, dailyCap: 25, maxWaitMs: 60_000 } }),
    );
    const results = await Promise.all(pacers.flatMap((p) => Array.from({ length: 20 }, () => p.run('reply', async () => 1))));
    expect(results.filter((r) => r.admitted)).toHaveLength(25);
    const [row] = await db.sql`select replies from whatsapp_daily_sends where day = '2026-11-25'`;
    expect(row).toEqual({ replies: 25 });
  });

  it('keeps part of the cap for replies on a broadcast day', async () => {
    const pacer = createPacer({ db: db.sql, options: { minDelayMs: 0, maxDelayMs: 0, dailyCap: 10, broadcastShare: 0.6 } });
    const broadcasts = await Promise.all(Array.from({ length: 10 }, () => pacer.run('broadcast', async () => 'b')));
    expect(broadcasts.filter((r) => r.admitted)).toHaveLength(6);
    const replies = await Promise.all(Array.from({ length: 10 }, () => pacer.run('reply', async () => 'r')));
    expect(replies.filter((r) => r.admitted)).toHaveLength(4);
  });

  it('sends one at a time, in order, with a jittered pause between, and turns away what would wait too long', async () => {
    const clock = fixedClock('2026-11-23T10:00:00Z');
    const pauses: number[] = [];
    const rolls = [0, 0.5, 1, 0.25];
    const pacer = createPacer({
      db: db.sql,
      clock,
      random: () => rolls.shift() ?? 0,
      // The clock stands still: every wait is measured from the same instant.
      sleep: async (ms) => void pauses.push(ms),
      options: { minDelayMs: 3000, maxDelayMs: 10_000, dailyCap: 100, maxWaitMs: 20_000 },
    });
    const order: number[] = [];
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => pacer.run('reply', async () => void order.push(n))));
    expect(order).toEqual([1, 2, 3, 4]);
    // Gaps of 3 s + 0·7 s, 3 s + 0.5·7 s, 3 s + 1·7 s: between min and max every time.
    expect(pauses).toEqual([3000, 9500, 19_500]);
    expect(results[4]).toMatchObject({ admitted: false, why: 'busy' });
  });
});

describe('the WhatsApp adapter', () => {
  let fake: ReturnType<typeof createFakeWhatsApp>;
  let session: WhatsAppSession;
  let adapter: WhatsAppAdapter;
  const received: Inbound[] = [];
  const sink = { receive: async (i: Inbound) => void received.push(i) };
  /** An adapter on the shared session and stores, as a restarted process would build it. */
  const newAdapter = (extra: Partial<WhatsAppAdapterDeps> = {}) =>
    createWhatsAppAdapter({
      session,
      factory: fake.factory,
      menus: createMenuStore(db.sql),
      sent: createSentLedger(db.sql),
      lids: createLidStore(db.sql),
      pacer: createPacer({ db: db.sql, options: { minDelayMs: 0, maxDelayMs: 0 } }),
      i18n,
      defaultLocale: 'pl',
      logger: testLogger(),
      ...extra,
    });

  beforeAll(async () => {
    fake = createFakeWhatsApp({ linked: true, unknownNumbers: new Set(['48999999999@c.us']) });
    session = createWhatsAppSession({
      factory: fake.factory,
      logger: testLogger(),
      onMessage: (m, c) => adapter.handleIncoming(m, c, sink).then(() => undefined),
      options: { healthEveryMs: 0, restartEveryMs: 0, backoffInitialMs: 5 },
    });
    adapter = newAdapter({
      loadImage: async (image) => {
        if (image.mediaKey === 'gone.jpg') throw new Error('image not found in the media store');
        return { data: Buffer.from(`bytes of ${image.mediaKey}`), mimeType: 'image/jpeg', fileName: 'reward.jpg' };
      },
    });
    session.start();
    await session.waitFor('ready');
  });
  afterAll(async () => {
    await session.stop();
  });

  it('sends a numbered menu and maps the participant’s “2” or the label back to the choice', async () => {
    const menu = { text: 'Menu principal', choices: [[{ label: 'Inserir código', value: 'codes:enter' }, { label: 'O meu saldo', value: 'menu:balance' }]] };
    expect(await adapter.send(to, menu)).toMatchObject({ status: 'sent', providerMessageId: expect.stringContaining(PT) });
    expect(fake.textsTo(to.chatId).at(-1)).toBe('Menu principal\n\n1. Inserir código\n2. O meu saldo\n\n_Responda com um número de 1 a 2 ou com o nome da opção._');

    const c = fake.latest();
    c.receive(waMessage({ from: to.chatId, body: '2' }));
    c.receive(waMessage({ from: to.chatId, body: 'inserir codigo' }));
    await expect.poll(() => received.length).toBe(2);
    expect(received.map((r) => r.kind === 'choice' && r.value)).toEqual(['menu:balance', 'codes:enter']);

    // A message without choices closes the menu: a later "2" is just text (a quantity, say).
    await adapter.send(to, { text: 'Quantas unidades?' });
    c.receive(waMessage({ from: to.chatId, body: '2' }));
    await expect.poll(() => received.length).toBe(3);
    expect(received[2]).toMatchObject({ kind: 'text', text: '2' });
  });

  it('sends an image with the text as caption', async () => {
    await adapter.send(to, { text: 'Novo prémio: mochila', image: { mediaKey: 'rewards/42.jpg' } });
    const last = fake.world.sent.at(-1)!;
    expect(last.options).toEqual({ caption: 'Novo prémio: mochila' });
    expect(last.content).toEqual({ mimetype: 'image/jpeg', data: Buffer.from('bytes of rewards/42.jpg').toString('base64'), filename: 'reward.jpg' });
  });

  it('still delivers the text when the image is gone', async () => {
    expect((await adapter.send(to, { text: 'O seu talão foi aprovado', image: { mediaKey: 'gone.jpg' } })).status).toBe('sent');
    expect(fake.world.sent.at(-1)).toMatchObject({ content: 'O seu talão foi aprovado' });
  });

  it('answers a number that is not on WhatsApp as unreachable', async () => {
    expect(await adapter.send({ channel: 'whatsapp', externalId: '48999999999', chatId: '48999999999@c.us' }, { text: 'Cześć' })).toEqual({
      status: 'unreachable',
      reason: 'not on WhatsApp',
    });
  });

  it('sends a message handed over again under the same key only once, across restarts and at the same time', async () => {
    const chat: ChannelAddress = { channel: 'whatsapp', externalId: '351934000001', chatId: '351934000001@c.us' };
    const first = await adapter.send(chat, { text: 'O seu pedido foi enviado' }, { key: 'outbox:9001', kind: 'notice' });
    expect(first).toMatchObject({ status: 'sent', providerMessageId: expect.stringContaining('351934000001') });
    // The sender retries (its mark was lost), or another adapter after a restart gets the same row.
    expect(await adapter.send(chat, { text: 'O seu pedido foi enviado' }, { key: 'outbox:9001' })).toEqual(first);
    const restarted = newAdapter();
    expect(await restarted.send(chat, { text: 'O seu pedido foi enviado' }, { key: 'outbox:9001' })).toEqual(first);
    // The same row handed over five times at once.
    const racing = await Promise.all(Array.from({ length: 5 }, () => adapter.send(chat, { text: 'Pontos creditados' }, { key: 'outbox:9002' })));
    expect(new Set(racing.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(fake.textsTo(chat.chatId)).toEqual(['O seu pedido foi enviado', 'Pontos creditados']);
    // Without a key nothing is deduplicated (two messages that happen to read the same).
    await adapter.send(chat, { text: 'Olá' });
    await adapter.send(chat, { text: 'Olá' });
    expect(fake.textsTo(chat.chatId).filter((t) => t === 'Olá')).toHaveLength(2);
  });

  it('holds back only a broadcast that is over its share of the daily cap; replies still go', async () => {
    const capped = newAdapter({
      pacer: createPacer({ db: db.sql, options: { minDelayMs: 0, maxDelayMs: 0, dailyCap: 4, broadcastShare: 0.5 } }),
    });
    await db.sql`delete from whatsapp_daily_sends`;
    const chat: ChannelAddress = { channel: 'whatsapp', externalId: '48601000111', chatId: '48601000111@c.us' };
    const results = [];
    for (const text of ['Promocja 1', 'Promocja 2', 'Promocja 3']) results.push(await capped.send(chat, { text }, { kind: 'broadcast' }));
    expect(results.map((r) => r.status)).toEqual(['sent', 'sent', 'rate_limited']);
    expect(results[2]).toMatchObject({ scope: 'message', retryAfterMs: expect.any(Number) });
    expect(await capped.send(chat, { text: 'Twoje saldo: 120 pkt' }, { kind: 'reply' })).toMatchObject({ status: 'sent' });
    // The whole cap used up: now nothing can go, replies included.
    await capped.send(chat, { text: 'Dziękujemy' }, { kind: 'reply' });
    expect(await capped.send(chat, { text: 'Jeszcze jedno' }, { kind: 'reply' })).toMatchObject({ status: 'rate_limited', scope: 'channel' });
    await db.sql`delete from whatsapp_daily_sends`;
  });

  it('keeps one identity for a @lid sender: a later failed phone lookup does not split the participant', async () => {
    const lid = '111222333444555@lid';
    fake.world.lids.set(lid, '351912000777');
    const c = fake.latest();
    c.receive(waMessage({ from: lid, body: 'olá', contactNumber: '' }));
    await expect.poll(() => received.at(-1)).toMatchObject({ text: 'olá' });
    expect(received.at(-1)!.from).toMatchObject({ externalId: '351912000777', verifiedPhone: '+351912000777', chatId: lid });
    // WhatsApp no longer tells the phone (the lookup fails): the same person, the same identity.
    fake.world.lids.delete(lid);
    c.receive(waMessage({ from: lid, body: 'saldo', contactNumber: '' }));
    await expect.poll(() => received.at(-1)).toMatchObject({ text: 'saldo' });
    expect(received.at(-1)!.from).toMatchObject({ externalId: '351912000777', verifiedPhone: '+351912000777' });
  });

  it('keeps the lid as the identity of a sender first seen without a phone, and verifies the phone once known', async () => {
    const lid = '999888777666555@lid';
    const c = fake.latest();
    c.receive(waMessage({ from: lid, body: 'oi', contactNumber: '' }));
    await expect.poll(() => received.at(-1)).toMatchObject({ text: 'oi' });
    expect(received.at(-1)!.from.externalId).toBe(lid);
    expect(received.at(-1)!.from.verifiedPhone).toBeUndefined();
    fake.world.lids.set(lid, '5511987650000');
    c.receive(waMessage({ from: lid, body: 'oi de novo', contactNumber: '' }));
    await expect.poll(() => received.at(-1)).toMatchObject({ text: 'oi de novo' });
    expect(received.at(-1)!.from).toMatchObject({ externalId: lid, verifiedPhone: '+5511987650000', localeHint: 'pt-BR' });
  });

  it('says "later" without spending an attempt while disconnected, and sends again once reconnected', async () => {
    const before = fake.world.sent.length;
    fake.latest().disconnect('TIMEOUT');
    expect(await adapter.send(to, { text: 'Olá de novo' })).toEqual({ status: 'rate_limited', retryAfterMs: 30_000, scope: 'channel' });
    expect(fake.world.sent.length).toBe(before);
    await session.waitFor('ready');
    expect((await adapter.send(to, { text: 'Olá de novo' })).status).toBe('sent');
    // Messages keep flowing in from the new client.
    fake.latest().receive(waMessage({ from: to.chatId, body: 'voltei' }));
    await expect.poll(() => received.at(-1)).toMatchObject({ kind: 'text', text: 'voltei' });
  });
});

describe('the @lid store', () => {
  it('gives every message of a new lid the same identity when many arrive at once, lookups failing or not', async () => {
    const lids = createLidStore(db.sql);
    const lid = '424242424242424@lid';
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => lids.identify(lid, async () => (i % 2 === 0 ? '48601999888' : undefined))),
    );
    expect(new Set(results.map((r) => r.externalId)).size).toBe(1);
    const [row] = await db.sql<{ externalId: string }[]>`select external_id from whatsapp_lids where lid = ${lid}`;
    expect(results[0]!.externalId).toBe(row!.externalId);
    // Whatever was chosen stays, and the phone, once learnt, is remembered without asking again.
    let asked = 0;
    const again = await lids.identify(lid, async () => {
      asked++;
      return '48601999888';
    });
    expect(again).toEqual({ externalId: row!.externalId, phoneDigits: '48601999888' });
    await lids.identify(lid, async () => {
      asked++;
      return undefined;
    });
    expect(asked).toBeLessThanOrEqual(1);
  });
});

describe('RemoteAuth store in Postgres', () => {
  it('saves the zipped session and gives it back in a fresh data directory (a new container)', async () => {
    const dirA = await mkdtemp(path.join(os.tmpdir(), 'wa-a-'));
    const dirB = await mkdtemp(path.join(os.tmpdir(), 'wa-b-'));
    try {
      const a = createPostgresSessionStore(db.sql, dirA);
      expect(await a.sessionExists({ session: 'RemoteAuth-punkto' })).toBe(false);
      const zip = Buffer.from([0x50, 0x4b, 3, 4, 1, 2, 3, 255]);
      await (await import('node:fs/promises')).mkdir(path.join(dirA, 'whatsapp'), { recursive: true });
      await writeFile(path.join(dirA, 'whatsapp', 'RemoteAuth-punkto.zip'), zip);
      await a.save({ session: 'RemoteAuth-punkto' });

      const b = createPostgresSessionStore(db.sql, dirB);
      expect(await b.sessionExists({ session: 'RemoteAuth-punkto' })).toBe(true);
      const target = path.join(dirB, 'whatsapp', 'RemoteAuth-punkto.zip');
      await b.extract({ session: 'RemoteAuth-punkto', path: target });
      expect(await readFile(target)).toEqual(zip);
      await b.delete({ session: 'RemoteAuth-punkto' });
      expect(await a.sessionExists({ session: 'RemoteAuth-punkto' })).toBe(false);
    } finally {
      await rm(dirA, { recursive: true, force: true });
      await rm(dirB, { recursive: true, force: true });
    }
  });
});

describe('GET /api/v1/channels/whatsapp and logout', () => {
  let redis: Redis;
  let app: FastifyInstance;
  let remoteApp: FastifyInstance;
  let fake: ReturnType<typeof createFakeWhatsApp>;
  let session: WhatsAppSession;
  let admin: string;
  let viewer: string;
  let manager: string;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    const adminTokens = createAdminTokens({ sql: db.sql });
    admin = (await adminTokens.bootstrap(undefined))!;
    viewer = (await adminTokens.create({ name: 'Vera', role: 'viewer' })).token;
    manager = (await adminTokens.create({ name: 'Marta', role: 'manager' })).token;
    fake = createFakeWhatsApp({ linked: false });
    session = createWhatsAppSession({
      factory: fake.factory,
      logger: testLogger(),
      onMessage: async () => undefined,
      options: { healthEveryMs: 0, restartEveryMs: 0, printQr: false },
    });
    const control = localControl(session);
    app = await buildServer({
      logger: testLogger(),
      sql: db.sql,
      redis,
      adminTokens,
      apiRoutes: [whatsappChannelRoutes({ control, sql: db.sql })],
      readinessDetails: whatsappReadiness(control),
    });
    const board = createStatusBoard(db.sql);
    remoteApp = await buildServer({
      logger: testLogger(),
      sql: db.sql,
      redis,
      adminTokens,
      apiRoutes: [whatsappChannelRoutes({ control: remoteControl(board), sql: db.sql })],
    });
    session.start();
    await session.waitFor('qr');
  });
  afterAll(async () => {
    await session.stop();
    await app.close();
    await remoteApp.close();
    redis.disconnect();
  });

  it('shows managers the QR to scan, as a data URL or a PNG; viewers may not', async () => {
    expect((await app.inject({ url: '/api/v1/channels/whatsapp', headers: auth(viewer) })).statusCode).toBe(403);
    const res = await app.inject({ url: '/api/v1/channels/whatsapp', headers: auth(manager) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ enabled: true, state: 'qr', qr: expect.stringMatching(/^data:image\/png;base64,/) });
    const png = await app.inject({ url: '/api/v1/channels/whatsapp?format=png', headers: auth(admin) });
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.rawPayload.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('reports WhatsApp in /readyz without making the service unready', async () => {
    const res = await app.inject('/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.json().checks.whatsapp).toMatchObject({ ok: false, state: 'qr' });
  });

  it('goes ready after the scan (no QR any more), and logout brings a new QR without a restart', async () => {
    fake.latest().scan();
    await session.waitFor('ready');
    expect((await app.inject({ url: '/api/v1/channels/whatsapp', headers: auth(manager) })).json()).toMatchObject({ state: 'ready', qr: null });
    expect((await app.inject({ url: '/api/v1/channels/whatsapp?format=png', headers: auth(manager) })).statusCode).toBe(404);
    expect((await app.inject('/readyz')).json().checks.whatsapp).toEqual({ ok: true, state: 'ready' });

    const out = await app.inject({ method: 'POST', url: '/api/v1/channels/whatsapp/logout', headers: auth(manager) });
    expect(out.statusCode).toBe(202);
    await session.waitFor('qr');
    const after = (await app.inject({ url: '/api/v1/channels/whatsapp', headers: auth(manager) })).json();
    expect(after.state).toBe('qr');
    const [audit] = await db.sql`select actor, action from audit_log where action = 'whatsapp.logout'`;
    expect(audit).toEqual({ actor: 'Marta', action: 'whatsapp.logout' });
  });

  it('works across processes: the WhatsApp process publishes its state and picks up a logout request', async () => {
    const board = createStatusBoard(db.sql);
    expect((await remoteApp.inject({ url: '/api/v1/channels/whatsapp', headers: auth(manager) })).json()).toMatchObject({ state: 'unknown' });
    const stopFollowing = board.follow(session, testLogger(), 20);
    try {
      await expect
        .poll(async () => (await remoteApp.inject({ url: '/api/v1/channels/whatsapp', headers: auth(manager) })).json().state)
        .toBe('qr');
      fake.latest().scan();
      await expect
        .poll(async () => (await remoteApp.inject({ url: '/api/v1/channels/whatsapp', headers: auth(manager) })).json().state)
        .toBe('ready');
      const clients = fake.clients.length;
      expect((await remoteApp.inject({ method: 'POST', url: '/api/v1/channels/whatsapp/logout', headers: auth(manager) })).statusCode).toBe(202);
      await expect.poll(() => fake.clients.length).toBe(clients + 1);
      await session.waitFor('qr');
      expect(fake.world.linked).toBe(false);
    } finally {
      await stopFollowing();
    }
    // A status nobody refreshes goes stale: "unknown", not a stale "ready".
    expect((await board.read(new Date(Date.now() + 120_000))).state).toBe('unknown');
  });

  it('says WhatsApp is off when it is not enabled', async () => {
    const off = await buildServer({
      logger: testLogger(),
      sql: db.sql,
      redis,
      adminTokens: createAdminTokens({ sql: db.sql }),
      apiRoutes: [whatsappChannelRoutes({ control: undefined, sql: db.sql })],
    });
    try {
      expect((await off.inject({ url: '/api/v1/channels/whatsapp', headers: auth(manager) })).json()).toMatchObject({ enabled: false, state: 'off' });
      expect((await off.inject({ method: 'POST', url: '/api/v1/channels/whatsapp/logout', headers: auth(manager) })).statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });
});
