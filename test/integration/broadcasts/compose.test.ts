/**
 * Composing broadcasts: the admin API (roles, validation, audiences, status counts, pause / resume /
 * cancel, test send), the manager's `/broadcast` chat flow, mute / unmute words, and the automatic
 * announcements (campaign start/end, expiry reminders) that are created exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { testLogger } from '../../helpers/logger.js';
import { buildServer } from '../../../src/http/server.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';
import { broadcastRoutes } from '../../../src/http/routes/broadcasts.js';
import { createBroadcasts, templateTranslator, type BroadcastsService } from '../../../src/services/broadcasts/index.js';
import { renderFor } from '../../../src/domain/broadcasts/index.js';
import { createDueAutomatic } from '../../../src/services/broadcasts/automatic.js';
import { createBroadcastsFlow } from '../../../src/dialog/flows/broadcasts/index.js';
import { createEnqueueOutbound } from '../../../src/services/outbox/index.js';
import { createI18n, formatDate } from '../../../src/i18n/index.js';
import { createLedger } from '../../../src/services/ledger/index.js';
import * as repo from '../../../src/db/broadcasts/repo.js';
import * as programsRepo from '../../../src/db/programs/repo.js';
import { buildEngine, inbound, text, choice, command, outboxOf } from '../../helpers/dialog-harness.js';
import type { FlowModule } from '../../../src/dialog/flow.js';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL } from '../../helpers/redis.js';

const i18n = createI18n({ defaultLocale: 'pl' });
let db: TestDatabase;
let app: FastifyInstance;
let broadcasts: BroadcastsService;
let programId: string;
let manager: string;
let viewer: string;
let redis: Redis;
const kicked: string[] = [];

interface Person {
  id: string;
  chat: string;
}

let seq = 0;
async function person(fields: { role?: string; locale?: string | null; store?: string; region?: string; muted?: boolean; registeredAt?: Date; channel?: string }): Promise<Person> {
  const chat = String(70_000 + ++seq);
  const [p] = await db.sql<{ id: string }[]>`
    insert into participants (program_id, status, role, locale, name, store, profile, muted, registered_at, consent_version, consent_at)
    values (${programId}, 'active', ${fields.role ?? 'consumer'}, ${fields.locale === undefined ? 'pl' : fields.locale}, ${'Person ' + seq},
            ${fields.store ?? null}, ${db.sql.json(fields.region ? { region: fields.region } : {})}, ${fields.muted ?? false},
            ${fields.registeredAt ?? new Date()}, '1', now())
    returning id`;
  await db.sql`insert into channel_identities (program_id, channel, external_id, chat_id, participant_id, locale_hint)
               values (${programId}, ${fields.channel ?? 'telegram'}, ${chat}, ${chat}, ${p!.id}, ${fields.locale === null ? 'pt-BR' : null})`;
  return { id: p!.id, chat };
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const [p] = await db.sql<{ id: string }[]>`select id from programs where slug = 'default'`;
  programId = p!.id;
  broadcasts = createBroadcasts({
    sql: db.sql,
    enqueueOutbound: createEnqueueOutbound({ translate: (l) => i18n.t(l), defaultLocale: 'pl' }),
    defaultLocale: 'pl',
    kick: async (id) => void kicked.push(id),
  });
  const tokens = createAdminTokens({ sql: db.sql });
  manager = (await tokens.create({ name: 'manager', role: 'manager' })).token;
  viewer = (await tokens.create({ name: 'viewer', role: 'viewer' })).token;
  app = await buildServer({ logger: testLogger(), sql: db.sql, redis, adminTokens: tokens, apiRoutes: [broadcastRoutes({ sql: db.sql, broadcasts })] });
});

afterAll(async () => {
  await app.close();
  redis.disconnect();
  await db.drop();
});

const api = (method: 'GET' | 'POST', url: string, token: string, payload?: object) =>
  app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

describe('broadcast API', () => {
  it('composes for managers only, validates the message, and kicks the sender', async () => {
    const a = await person({});
    const created = await api('POST', '/broadcasts', manager, { message: { pl: 'Cześć!' }, audience: { participantIds: [a.id] } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ status: 'scheduled', recipients: 1 });
    expect(kicked).toContain(created.json().id);

    expect((await api('POST', '/broadcasts', viewer, { message: { pl: 'x' } })).statusCode).toBe(403);
    expect((await api('POST', '/broadcasts', manager, { message: {} })).statusCode).toBe(400);
    expect((await api('POST', '/broadcasts', manager, { message: { pl: 'x' }, audience: { roles: ['wizard'] } })).statusCode).toBe(400);

    const got = await api('GET', `/broadcasts/${created.json().id}`, viewer);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ status: 'scheduled', total: 0, sent: 0, queued: 0, optedOut: 0 });
    expect((await api('GET', '/broadcasts/00000000-0000-4000-8000-000000000000', viewer)).statusCode).toBe(404);
  });

  it('counts each audience filter the way it reads', async () => {
    const since = new Date(Date.now() + 1000);
    const installer = await person({ role: 'installer', store: 'Leroy Kraków', region: 'małopolskie', locale: 'pl' });
    const seller = await person({ role: 'retail_staff', store: 'OBI Porto', region: 'norte', locale: 'pt-PT' });
    const hinted = await person({ locale: null, registeredAt: new Date(Date.now() + 5000) }); // pt-BR from its pt-BR hint
    const muted = await person({ role: 'installer', store: 'Leroy Kraków', muted: true });
    const web = await person({ channel: 'web', locale: 'be' });
    const campaign = await db.sql<{ id: string }[]>`
      insert into campaigns (program_id, name, status, starts_at, ends_at) values (${programId}, 'Lato', 'active', now(), now() + interval '1 day') returning id`;
    await db.sql`insert into campaign_tallies (campaign_id, participant_id, period, points) values (${campaign[0]!.id}, ${seller.id}, 'total', 10)`;

    const count = async (audience: object) => (await api('POST', '/broadcasts/preview', manager, { audience })).json().recipients as number;
    const only = { participantIds: [installer.id, seller.id, hinted.id, muted.id, web.id] };
    expect(await count(only)).toBe(4); // the muted one is not counted
    expect(await count({ ...only, roles: ['installer'] })).toBe(1);
    expect(await count({ ...only, stores: ['OBI Porto'] })).toBe(1);
    expect(await count({ ...only, regions: ['małopolskie', 'norte'] })).toBe(2);
    expect(await count({ ...only, locales: ['pt'] })).toBe(2); // pt: both variants
    expect(await count({ ...only, locales: ['pt-BR'] })).toBe(1);
    expect(await count({ ...only, locales: ['pt-PT'] })).toBe(1);
    expect(await count({ ...only, channels: ['web'] })).toBe(1);
    expect(await count({ ...only, registeredSince: since.toISOString() })).toBe(1);
    expect(await count({ ...only, campaignId: campaign[0]!.id })).toBe(1);
  });

  it('pauses, resumes and cancels with clear conflicts, and test-sends in the manager’s language', async () => {
    const boss = await person({ role: 'manager', locale: 'pt-PT' });
    const later = new Date(Date.now() + 3600_000).toISOString();
    const { id } = (await api('POST', '/broadcasts', manager, { message: { pl: 'Jutro promocja', pt: 'Amanhã há promoção' }, sendAt: later })).json();

    const test = await api('POST', `/broadcasts/${id}/test`, manager, { participantId: boss.id });
    expect(test.statusCode).toBe(202);
    expect((await outboxOf(db.sql, boss.chat)).map((m) => m.text)).toEqual(['Amanhã há promoção']);

    expect((await api('POST', `/broadcasts/${id}/pause`, manager)).json()).toMatchObject({ status: 'paused' });
    expect((await api('POST', `/broadcasts/${id}/pause`, manager)).statusCode).toBe(409);
    expect((await api('POST', `/broadcasts/${id}/resume`, manager)).json()).toMatchObject({ status: 'scheduled' });
    expect((await api('POST', `/broadcasts/${id}/cancel`, manager)).json()).toMatchObject({ status: 'cancelled' });
    expect((await api('POST', `/broadcasts/${id}/resume`, manager)).statusCode).toBe(409);
    expect((await api('POST', `/broadcasts/${id}/cancel`, viewer)).statusCode).toBe(403);
  });
});

describe('broadcasts in the chat', () => {
  const flow = () => createBroadcastsFlow({ broadcasts });

  it('lets a manager write in two languages, pick an audience, see the count and send', async () => {
    const boss = await person({ role: 'manager', locale: 'pl' });
    await person({ role: 'consumer' });
    const { engine } = buildEngine(db.sql, [flow()]);
    const from = { externalId: boss.chat, chatId: boss.chat };
    const say = async (body: Parameters<typeof inbound>[1]) => {
      const before = (await outboxOf(db.sql, boss.chat)).length;
      await engine.receive(inbound(from, body));
      return (await outboxOf(db.sql, boss.chat)).slice(before);
    };
    expect((await say(command('broadcast')))[0]!.text).toContain('Polski');
    const more = await say(text('Promocja na kleje od poniedziałku!'));
    expect(more[0]!.choices!.flat().map((c) => c.value)).toEqual(['bc:lang:pt-PT', 'bc:lang:pt-BR', 'bc:lang:be', 'bc:next', 'bc:cancel']);
    expect((await say(choice('bc:lang:pt-PT')))[0]!.text).toContain('Português');
    await say(text('Promoção de colas a partir de segunda!'));
    const audience = await say(choice('bc:next'));
    expect(audience[0]!.choices!.flat().map((c) => c.value)).toContain('bc:aud:consumers');
    const preview = await say(choice('bc:aud:consumers'));
    const consumers = await broadcasts.countAudience(db.sql, { roles: ['consumer'] }, programId);
    expect(preview[0]!.text).toContain('Promocja na kleje od poniedziałku!');
    expect(preview[0]!.text).toContain(`Liczba odbiorców: ${consumers}`);
    const sent = await say(choice('bc:send'));
    expect(sent[0]!.text).toContain(String(consumers));
    const [b] = await db.sql<{ id: string; message: unknown; audience: unknown; createdBy: string }[]>`
      select id, message, audience, created_by from broadcasts where created_by = ${'participant:' + boss.id}`;
    expect(b!.message).toEqual({ texts: { pl: 'Promocja na kleje od poniedziałku!', 'pt-PT': 'Promoção de colas a partir de segunda!' } });
    expect(b!.audience).toEqual({ roles: ['consumer'] });
    expect(kicked).toContain(b!.id);
  });

  it('refuses /broadcast to non-managers', async () => {
    const someone = await person({ role: 'consumer', locale: 'be' });
    const { engine } = buildEngine(db.sql, [flow()]);
    await engine.receive(inbound({ externalId: someone.chat, chatId: someone.chat }, command('broadcast')));
    expect((await outboxOf(db.sql, someone.chat)).at(-1)!.text).toBe(i18n.t('be')('broadcasts:compose.not_allowed'));
  });

  it('mutes on STOP / PARAR / СТОП or /mute and unmutes on START, in the participant’s language', async () => {
    const { engine } = buildEngine(db.sql, [flow()]);
    for (const [locale, stop, start] of [['pl', 'STOP', 'start'], ['pt-PT', 'Parar', 'NOVIDADES'], ['be', 'стоп!', 'СТАРТ']] as const) {
      const p = await person({ locale });
      const from = { externalId: p.chat, chatId: p.chat };
      const muted = async () => (await db.sql<{ muted: boolean }[]>`select muted from participants where id = ${p.id}`)[0]!.muted;
      await engine.receive(inbound(from, text(stop)));
      expect(await muted()).toBe(true);
      expect((await outboxOf(db.sql, p.chat)).at(-1)!.text).toBe(i18n.t(locale)('broadcasts:mute.done'));
      await engine.receive(inbound(from, text(start)));
      expect(await muted()).toBe(false);
      expect((await outboxOf(db.sql, p.chat)).at(-1)!.text).toBe(i18n.t(locale)('broadcasts:unmute.done'));
      await engine.receive(inbound(from, command('mute')));
      expect(await muted()).toBe(true);
    }
    // A sentence containing "stop" is just a message.
    const p = await person({});
    await engine.receive(inbound({ externalId: p.chat, chatId: p.chat }, text('stop the music please')));
    expect((await db.sql<{ muted: boolean }[]>`select muted from participants where id = ${p.id}`)[0]!.muted).toBe(false);
  });

  it('leaves words typed inside another flow’s step to that flow; /mute still works there', async () => {
    // A stand-in for the sales flow: it asks a question and takes any text as the answer.
    const answers: string[] = [];
    const sales: FlowModule = {
      id: 'sx',
      intercept: (ctx) => (ctx.inbound.kind === 'command' && ctx.inbound.command === 'sell' ? { replies: ['Quantity?'], next: { step: 'sx.ask' } } : undefined),
      steps: {
        'sx.ask': (ctx) => {
          answers.push(ctx.inbound.kind === 'text' ? ctx.inbound.text : ctx.inbound.kind);
          return { replies: ['ok'], next: 'keep' };
        },
      },
    };
    const { engine } = buildEngine(db.sql, [flow(), sales]);
    const p = await person({ locale: 'pt-PT' });
    const from = { externalId: p.chat, chatId: p.chat };
    const muted = async () => (await db.sql<{ muted: boolean }[]>`select muted from participants where id = ${p.id}`)[0]!.muted;
    await engine.receive(inbound(from, command('sell')));
    for (const word of ['Cancelar', 'Parar', 'STOP']) await engine.receive(inbound(from, text(word)));
    expect(await muted()).toBe(false);
    expect(answers).toEqual(['Cancelar', 'Parar', 'STOP']);
    await engine.receive(inbound(from, command('mute')));
    expect(await muted()).toBe(true);
    // Back at the menu an everyday word is not a mute word either; NOVIDADES is.
    await engine.receive(inbound(from, command('menu')));
    await engine.receive(inbound(from, text('cancelar')));
    expect(await muted()).toBe(true);
    await engine.receive(inbound(from, text('Voltar')));
    expect(await muted()).toBe(true);
    await engine.receive(inbound(from, text('Novidades')));
    expect(await muted()).toBe(false);
  });
});

describe('automatic announcements', () => {
  it('announces a campaign’s start and end once each, however often the scheduler runs', async () => {
    const [c] = await db.sql<{ id: string }[]>`
      insert into campaigns (program_id, name, names, status, starts_at, ends_at, audience_roles)
      values (${programId}, 'Zima', ${db.sql.json({ pt: 'Inverno' })}, 'active', now() - interval '1 minute', now() + interval '1 day', '{installer}')
      returning id`;
    const [ended] = await db.sql<{ id: string }[]>`
      insert into campaigns (program_id, name, status, starts_at, ends_at)
      values (${programId}, 'Jesień', 'ended', now() - interval '30 days', now() - interval '1 minute') returning id`;
    const runs = await Promise.all([createDueAutomatic(db.sql), createDueAutomatic(db.sql), createDueAutomatic(db.sql)]);
    const kinds = runs
      .flat()
      .map((b) => `${b.kind}:${b.sourceKey}`)
      .filter((k) => k.includes(c!.id) || k.includes(ended!.id));
    expect(kinds.sort()).toEqual([`campaign_end:campaign:${ended!.id}:end`, `campaign_start:campaign:${c!.id}:start`]);
    expect(await createDueAutomatic(db.sql)).toEqual([]);
    const start = await repo.bySourceKey(db.sql, `campaign:${c!.id}:start`);
    expect(start!.audience).toEqual({ roles: ['installer'] });
  });

  it('announces a store or region campaign to everyone who earns in it, however they typed their store', async () => {
    const [c] = await db.sql<{ id: string }[]>`
      insert into campaigns (program_id, name, status, starts_at, ends_at, stores, regions)
      values (${programId}, 'Demo week', 'active', now() - interval '1 minute', now() + interval '7 days', '{Demo}', '{Lisboa,Porto}')
      returning id`;
    const lisbon = await person({ store: 'Demo, Lisboa', region: 'Lisboa' });
    const shouting = await person({ store: 'DEMO  lisboa', region: 'lisboa' });
    const porto = await person({ store: 'Loja Démo', region: 'Porto – centro' });
    const other = await person({ store: 'Demolka', region: 'Lisboa' });
    const elsewhere = await person({ store: 'Demo Faro', region: 'Faro' });
    const everyone = [lisbon, shouting, porto, other, elsewhere];
    await createDueAutomatic(db.sql);
    const start = (await repo.bySourceKey(db.sql, `campaign:${c!.id}:start`))!;
    expect(start.audience).toMatchObject({ stores: ['Demo'], regions: ['Lisboa', 'Porto'] });
    const scoped = { ...start.audience, participantIds: everyone.map((p) => p.id) };
    expect(await broadcasts.countAudience(db.sql, scoped, programId)).toBe(3);

    // Fan it out in small batches (most candidates of a batch may not match) and see who gets it.
    const b = (await repo.insert(db.sql, { programId, kind: 'manual', message: { texts: { pl: 'x' } }, audience: scoped }))!;
    await repo.transition(db.sql, b.id, ['scheduled'], 'fanning_out');
    while ((await repo.fanoutBatch(db.sql, (await repo.getById(db.sql, b.id))!, 2)) === 2);
    const rows = await db.sql<{ participantId: string }[]>`select participant_id from broadcast_deliveries where broadcast_id = ${b.id}`;
    expect(new Set(rows.map((r) => r.participantId))).toEqual(new Set([lisbon.id, shouting.id, porto.id]));
    expect((await repo.getById(db.sql, b.id))!.total).toBe(3);
  });

  it('gives the last day of a campaign in the program’s own time zone', async () => {
    // Ends at midnight in Lisbon (exclusive): the last day to take part is 30 November there,
    // though it is already 1 December 01:00 in Warsaw. Next year's, so the campaign is still ahead.
    const y = new Date().getUTCFullYear() + 1;
    const [lisbon] = await db.sql<{ id: string }[]>`
      insert into programs (slug, name, default_locale, time_zone) values ('lisboa-m4', 'Lisboa', 'pt-PT', 'Europe/Lisbon') returning id`;
    const [c] = await db.sql<{ id: string }[]>`
      insert into campaigns (program_id, name, status, starts_at, ends_at)
      values (${lisbon!.id}, 'Natal', 'active', now() - interval '1 minute', ${`${y}-12-01T00:00:00Z`}) returning id`;
    await createDueAutomatic(db.sql);
    const start = (await repo.bySourceKey(db.sql, `campaign:${c!.id}:start`))!;
    const read = (locale: 'pl' | 'pt-PT' | 'be') => renderFor(start, { locale }, 'pt-PT', templateTranslator(i18n.t(locale), locale))!.text;
    expect(read('pt-PT')).toContain(`Decorre até ${formatDate('pt-PT', `${y}-11-30T12:00:00Z`, 'UTC')}.`);
    expect(read('pl')).toContain(`Potrwa do ${formatDate('pl', `${y}-11-30T12:00:00Z`, 'UTC')} włącznie.`);
    expect(read('pl')).not.toContain(formatDate('pl', `${y}-12-01T12:00:00Z`, 'UTC'));
  });

  it('reminds, once, whoever has points expiring in N days, with their own amount', async () => {
    const ledger = createLedger({ sql: db.sql, logger: testLogger() });
    const a = await person({ locale: 'pl' });
    const b = await person({ locale: 'be' });
    const [tz] = await db.sql<{ timeZone: string }[]>`select time_zone from programs where id = ${programId}`;
    const inDays = (d: number) => new Date(Date.now() + d * 86400_000);
    await ledger.earn(db.sql, { programId, participantId: a.id, amount: 120, source: 'bonus', key: 'exp-a1', reason: { key: 'x' }, expiresAt: inDays(3) });
    await ledger.earn(db.sql, { programId, participantId: a.id, amount: 5, source: 'bonus', key: 'exp-a2', reason: { key: 'x' }, expiresAt: inDays(3) });
    await ledger.earn(db.sql, { programId, participantId: b.id, amount: 21, source: 'bonus', key: 'exp-b', reason: { key: 'x' }, expiresAt: inDays(3) });
    await ledger.earn(db.sql, { programId, participantId: b.id, amount: 50, source: 'bonus', key: 'exp-b2', reason: { key: 'x' }, expiresAt: inDays(30) });

    const created = (await createDueAutomatic(db.sql, { expiryReminderDays: 3 })).filter((x) => x.kind === 'expiry_reminder' && x.programId === programId);
    expect(created).toHaveLength(1);
    expect(await createDueAutomatic(db.sql, { expiryReminderDays: 3 })).toEqual([]);
    const reminder = created[0]!;
    expect(reminder.sourceKey).toBe(`expiry:${programId}:${await programsRepo.localDayPlus(db.sql, tz!.timeZone, 3)}`);

    // Fan it out and read what each person would get.
    await repo.transition(db.sql, reminder.id, ['scheduled'], 'fanning_out');
    while ((await repo.fanoutBatch(db.sql, (await repo.getById(db.sql, reminder.id))!, 100)) === 100);
    const rows = await db.sql<{ participantId: string; params: { points: number; day: string }; locale: string }[]>`
      select participant_id, params, locale from broadcast_deliveries where broadcast_id = ${reminder.id} order by locale`;
    expect(rows.map((r) => [r.participantId, r.params.points, r.locale])).toEqual([
      [b.id, 21, 'be'],
      [a.id, 125, 'pl'],
    ]);
    const be = i18n.t('be');
    expect(be('broadcasts:auto.points_expiring', { count: 21, day: rows[0]!.params.day })).toMatch(/ згарыць 21 бал — /);
  });
});
