/**
 * The attack's findings on the HTTP surface (issue 22): bad input answers 400 naming the field
 * (never 500), authentication happens before the body is read, security headers, /docs access,
 * TRUST_PROXY, phones masked below manager, accent-blind participant search through an index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../src/http/server.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';
import { createLedger } from '../../../src/services/ledger/index.js';
import { createCampaigns } from '../../../src/services/campaigns/index.js';
import { createCodes, createCodeHasher } from '../../../src/services/codes/index.js';
import { createSales } from '../../../src/services/sales/index.js';
import { createParticipants } from '../../../src/services/participants/index.js';
import { campaignRoutes } from '../../../src/http/routes/campaigns.js';
import { codeBatchRoutes } from '../../../src/http/routes/code-batches.js';
import { salesRoutes } from '../../../src/http/routes/sales.js';
import { participantRoutes } from '../../../src/http/routes/participants.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { TEST_REDIS_URL } from '../../helpers/redis.js';
import { testLogger } from '../../helpers/logger.js';

let db: TestDatabase;
let redis: Redis;
let app: FastifyInstance;
let admin: { authorization: string };
let viewer: { authorization: string };
let moderator: { authorization: string };
let manager: { authorization: string };
let adminTokens: ReturnType<typeof createAdminTokens>;

async function build(extra: Partial<Parameters<typeof buildServer>[0]> = {}): Promise<FastifyInstance> {
  const ledger = createLedger({ sql: db.sql });
  const campaigns = createCampaigns({ sql: db.sql });
  const codes = createCodes({ sql: db.sql, ledger, campaigns, hash: createCodeHasher(randomBytes(32)) });
  const sales = createSales({ ledger, campaigns });
  const participants = createParticipants({ sql: db.sql, defaultLocale: 'pl' });
  return buildServer({
    logger: testLogger(),
    sql: db.sql,
    redis,
    adminTokens,
    apiRoutes: [campaignRoutes({ sql: db.sql, campaigns, sales }), codeBatchRoutes({ codes }), salesRoutes({ sql: db.sql, sales }), participantRoutes({ sql: db.sql, participants, ledger })],
    ...extra,
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  adminTokens = createAdminTokens({ sql: db.sql });
  admin = { authorization: `Bearer ${(await adminTokens.bootstrap(undefined))!}` };
  viewer = { authorization: `Bearer ${(await adminTokens.create({ name: 'v', role: 'viewer' })).token}` };
  moderator = { authorization: `Bearer ${(await adminTokens.create({ name: 'mod', role: 'moderator' })).token}` };
  manager = { authorization: `Bearer ${(await adminTokens.create({ name: 'mgr', role: 'manager' })).token}` };
  app = await build();
  await db.sql`
    insert into participants (program_id, name, phone, store, status)
    select id, v.name, v.phone, v.store, 'active' from programs,
      (values ('João Gonçalves', '+351912345678', null), ('Zofia Wójcik-Łęcka', '+48519000333', 'Sklep Żabka'),
              ('Алесь Кастусёвіч', '+375291234567', null)) as v(name, phone, store)
     where slug = 'default'`;
});
afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  await db?.drop();
});

const window = { startsAt: '2026-12-01T00:00:00Z', endsAt: '2027-01-01T00:00:00Z' };

describe('values Postgres cannot store answer 400 naming the field, never 500', () => {
  const cases: Array<[string, { method: 'POST' | 'GET'; url: string; payload?: unknown }, string]> = [
    ['int4 overflow', { method: 'POST', url: '/api/v1/campaigns', payload: { name: 'x', ...window, caps: { perParticipantPerDay: 2147483648 } } }, 'body.caps.perParticipantPerDay'],
    ['negative int4 overflow', { method: 'POST', url: '/api/v1/campaigns', payload: { name: 'x', ...window, caps: { perParticipantPerCampaign: -2147483649 } } }, 'body.caps.perParticipantPerCampaign'],
    ['year 0000', { method: 'POST', url: '/api/v1/campaigns', payload: { name: 'y0', startsAt: '0000-01-01T00:00:00Z', endsAt: '2027-01-01T00:00:00Z' } }, 'body.startsAt'],
    ['year 10000', { method: 'POST', url: '/api/v1/campaigns', payload: { name: 'y0', startsAt: '2026-01-01T00:00:00Z', endsAt: '10000-01-01T00:00:00Z' } }, 'body.endsAt'],
    ['extended year', { method: 'POST', url: '/api/v1/campaigns', payload: { name: 'y0', startsAt: '+275760-09-13T00:00:00.000Z', endsAt: '2027-01-01T00:00:00Z' } }, 'body.startsAt'],
    ['NUL in a name', { method: 'POST', url: '/api/v1/campaigns', payload: { name: 'a\u0000b', ...window } }, 'body.name'],
    ['lone surrogate in a localized name', { method: 'POST', url: '/api/v1/campaigns', payload: { name: { pl: 'a\ud800' }, ...window } }, 'body.name.pl'],
    ['lone low surrogate', { method: 'POST', url: '/api/v1/campaigns', payload: { name: { pt: '\udc00x' }, ...window } }, 'body.name.pt'],
    ['NUL in a viewer search', { method: 'GET', url: '/api/v1/participants?search=%00' }, 'query.search'],
  ];
  for (const [what, request, field] of cases) {
    it(what, async () => {
      const before = (await db.sql`select count(*)::int as n from campaigns`)[0]!.n;
      const res = await app.inject({ ...request, headers: admin } as never);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().message).toContain(field);
      expect((await db.sql`select count(*)::int as n from campaigns`)[0]!.n).toBe(before);
    });
  }

  it('a well-formed pair of surrogates (an emoji) is fine', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/campaigns', headers: admin, payload: { name: { pl: 'Lato 🌞' }, ...window } });
    expect(res.statusCode, res.body).toBe(201);
  });
});

describe('authentication before the body', () => {
  it('an anonymous request gets 401 without its body being validated or read', async () => {
    const empty = await app.inject({ method: 'POST', url: '/api/v1/campaigns', payload: {} });
    expect(empty.statusCode).toBe(401);
    expect(empty.json()).not.toHaveProperty('issues');
    let parsed = 0;
    const probe = await build();
    probe.addHook('preParsing', async () => void parsed++);
    const big = await probe.inject({
      method: 'POST',
      url: '/api/v1/campaigns/00000000-0000-4000-8000-000000000000/code-batches/import?points=1',
      headers: { 'content-type': 'text/csv' },
      payload: 'code\n' + 'ABCDEFGHJK\n'.repeat(300_000),
    });
    expect(big.statusCode).toBe(401);
    expect(parsed).toBe(0);
    await probe.close();
  });

  it('a large-file route refuses a viewer before reading the body; a manager gets through', async () => {
    const url = '/api/v1/campaigns/00000000-0000-4000-8000-000000000000/code-batches/import?points=1';
    const payload = 'code\nABCDEFGHJK\n';
    const v = await app.inject({ method: 'POST', url, headers: { ...viewer, 'content-type': 'text/csv' }, payload });
    expect(v.statusCode).toBe(403);
    const m = await app.inject({ method: 'POST', url, headers: { ...manager, 'content-type': 'text/csv' }, payload });
    expect(m.statusCode).not.toBe(403);
    expect(m.statusCode).not.toBe(401);
  });

  it('JSON routes take at most 1 MB', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/campaigns', headers: admin, payload: { name: 'x'.repeat(1_100_000), ...window } });
    expect(res.statusCode).toBe(413);
  });
});

describe('security headers and /docs', () => {
  it('every answer carries the security headers; /docs too', async () => {
    for (const url of ['/healthz', '/docs', '/docs/json']) {
      const res = await app.inject(url.endsWith('/docs') ? { url: '/docs/' } : url);
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(String(res.headers['content-security-policy']), url).toContain("frame-ancestors 'none'");
      expect(res.headers['referrer-policy'], url).toBe('no-referrer');
    }
    expect(String((await app.inject('/healthz')).headers['content-security-policy'])).toContain("script-src 'self'");
  });

  it('DOCS=token serves the docs only with an admin token; DOCS=off not at all', async () => {
    const guarded = await build({ docs: 'token' });
    expect((await guarded.inject('/docs/json')).statusCode).toBe(401);
    expect((await guarded.inject({ url: '/docs/json', headers: viewer })).statusCode).toBe(200);
    const withQuery = await guarded.inject(`/docs/json?token=${admin.authorization.slice(7)}`);
    expect(withQuery.statusCode).toBe(200);
    const cookie = String(withQuery.headers['set-cookie']).split(';')[0]!;
    expect((await guarded.inject({ url: '/docs/json', headers: { cookie } })).statusCode).toBe(200);
    await guarded.close();
    const off = await build({ docs: 'off' });
    expect((await off.inject({ url: '/docs/json', headers: admin })).statusCode).toBe(404);
    await off.close();
  });

  it('/docs is rate-limited like the rest', async () => {
    const res = await app.inject('/docs/json');
    expect(res.headers['x-ratelimit-limit']).toBeDefined();
  });
});

describe('TRUST_PROXY', () => {
  it('without it every client behind a proxy shares one counter; with it each address has its own', async () => {
    const behind = (ip: string) => ({ url: '/api/v1/whoami', remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': ip } });
    const plain = await build({ rateLimitPerMinute: 3 });
    for (let i = 0; i < 3; i++) await plain.inject(behind(`203.0.113.${i}`));
    expect((await plain.inject(behind('203.0.113.77'))).statusCode).toBe(429);
    await plain.close();
    for (const trustProxy of [1, ['10.0.0.0/8']] as const) {
      const proxied = await build({ rateLimitPerMinute: 3, trustProxy: trustProxy as number | string[] });
      for (let i = 0; i < 4; i++) await proxied.inject(behind('203.0.113.5'));
      expect((await proxied.inject(behind('203.0.113.5'))).statusCode).toBe(429);
      expect((await proxied.inject(behind('203.0.113.77'))).statusCode).toBe(401);
      await proxied.close();
    }
  });
});

describe('participants: phones below manager, accent-blind search', () => {
  it('viewers and moderators see masked phones, managers the whole number', async () => {
    const phones = async (auth: { authorization: string }) =>
      ((await app.inject({ url: '/api/v1/participants?search=wojcik', headers: auth })).json().items as { phone: string }[]).map((p) => p.phone);
    expect(await phones(viewer)).toEqual(['+48…333']);
    expect(await phones(moderator)).toEqual(['+48…333']);
    expect(await phones(manager)).toEqual(['+48519000333']);
    const one = (await app.inject({ url: '/api/v1/participants?search=joao', headers: viewer })).json().items[0];
    const detail = await app.inject({ url: `/api/v1/participants/${one.id}`, headers: viewer });
    expect(detail.json().phone).toBe('+351…678');
    expect(JSON.stringify(detail.json())).not.toContain('912345678');
  });

  it('"joao" finds "João", "LECKA" and "zabka" find Zofia, Cyrillic folds case', async () => {
    const names = async (search: string) =>
      ((await app.inject({ url: `/api/v1/participants?search=${encodeURIComponent(search)}`, headers: manager })).json().items as { name: string }[]).map((p) => p.name);
    expect(await names('joao')).toEqual(['João Gonçalves']);
    expect(await names('GONCALVES')).toEqual(['João Gonçalves']);
    expect(await names('LECKA')).toEqual(['Zofia Wójcik-Łęcka']);
    expect(await names('zabka')).toEqual(['Zofia Wójcik-Łęcka']);
    expect(await names('алесь')).toEqual(['Алесь Кастусёвіч']);
    expect(await names('50%')).toEqual([]);
  });

  it('the search can use the trigram index instead of reading every row', async () => {
    const plan = await db.sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`;
      return tx.unsafe(`explain select id from participants where punkto_fold(coalesce(name, '') || ' ' || coalesce(store, '')) like punkto_fold('%joao%')`);
    });
    expect(plan.map((r) => Object.values(r)[0]).join('\n')).toContain('participants_search_folded');
  });
});
