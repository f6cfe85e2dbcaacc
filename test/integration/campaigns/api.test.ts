import { beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../helpers/app.js';
import { randomBytes, randomUUID } from 'node:crypto';
import { createLedger } from '../../../src/services/ledger/index.js';
import { createCampaigns } from '../../../src/services/campaigns/index.js';
import { createCodes, createCodeHasher, type CodesService } from '../../../src/services/codes/index.js';
import { createSales } from '../../../src/services/sales/index.js';
import { campaignRoutes } from '../../../src/http/routes/campaigns.js';
import { codeBatchRoutes } from '../../../src/http/routes/code-batches.js';
import { salesRoutes } from '../../../src/http/routes/sales.js';
import { checkSymbol } from '../../../src/domain/codes/code-format.js';

let codes: CodesService;
let auth: { authorization: string };
let viewerAuth: { authorization: string };

const window = { startsAt: '2026-01-01T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' };

const t = buildTestApp((sql) => {
  const ledger = createLedger({ sql });
  const campaigns = createCampaigns({ sql });
  codes = createCodes({ sql, ledger, campaigns, hash: createCodeHasher(randomBytes(32)) });
  const sales = createSales({ ledger, campaigns });
  return { apiRoutes: [campaignRoutes({ sql, campaigns, sales }), codeBatchRoutes({ codes }), salesRoutes({ sql, sales })] };
});
beforeAll(async () => {
  auth = t.admin;
  viewerAuth = await t.as('viewer', 'v');
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url, payload: payload as never, headers: { ...auth, ...headers } });

describe('campaigns API', () => {
  it('creates, reads, lists and patches a campaign with rules', async () => {
    const res = await post('/api/v1/campaigns', {
      name: { pl: 'Lato z kodami', pt: 'Verão', be: 'Лета' },
      ...window,
      status: 'active',
      audienceRoles: ['consumer'],
      multipliers: [{ startsAt: '2026-06-06T00:00:00Z', endsAt: '2026-06-08T00:00:00Z', factor: 2 }],
      caps: { perParticipantPerDay: 500 },
      budget: 100000,
      productRules: [{ sku: 'BOIL-24', ean: '5901234123457', name: 'Kocioł 24 kW', pointsPerUnit: 120 }],
    });
    expect(res.statusCode).toBe(201);
    const c = res.json();
    expect(c).toMatchObject({
      id: expect.any(String),
      name: 'Lato z kodami',
      names: { pt: 'Verão' },
      status: 'active',
      caps: { perParticipantPerDay: 500, perParticipantPerCampaign: null },
      budget: 100000,
      awarded: 0,
      productRules: [{ sku: 'BOIL-24', ean: '5901234123457', pointsPerUnit: 120 }],
    });
    const got = await t.app.inject({ url: `/api/v1/campaigns/${c.id}`, headers: viewerAuth });
    expect(got.json().multipliers[0].factor).toBe(2);
    const patched = await t.app.inject({ method: 'PATCH', url: `/api/v1/campaigns/${c.id}`, headers: auth, payload: { status: 'ended' } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ status: 'ended', name: 'Lato z kodami', budget: 100000 });
    const list = await t.app.inject({ url: '/api/v1/campaigns?status=ended', headers: viewerAuth });
    expect(list.json().items.map((i: { id: string }) => i.id)).toContain(c.id);
  });

  it('answers clear 400s for invalid rules, 404 for unknown ids, 403 for viewers', async () => {
    const bad = await post('/api/v1/campaigns', { name: 'X', startsAt: '2026-02-01T00:00:00Z', endsAt: '2026-01-01T00:00:00Z' });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('endsAt');
    const badRule = await post('/api/v1/campaigns', { name: 'X', ...window, productRules: [{ sku: 'A', pointsPerUnit: -1 }] });
    expect(badRule.statusCode).toBe(400);
    expect(badRule.json().issues[0].path).toContain('productRules');
    const unknownField = await post('/api/v1/campaigns', { name: 'X', ...window, pointz: 5 });
    expect(unknownField.statusCode).toBe(400);
    expect((await t.app.inject({ url: `/api/v1/campaigns/${randomUUID()}`, headers: auth })).statusCode).toBe(404);
    expect((await post('/api/v1/campaigns', { name: 'X', ...window }, viewerAuth)).statusCode).toBe(403);
  });
});

describe('code batches API', () => {
  let campaignId: string;
  beforeAll(async () => {
    campaignId = (await post('/api/v1/campaigns', { name: 'Codes', ...window, status: 'active' })).json().id;
  });

  it('returns the codes once as JSON, or as CSV with Accept: text/csv', async () => {
    const res = await post(`/api/v1/campaigns/${campaignId}/code-batches`, { count: 20, points: 50, prefix: 'pk' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ id: expect.any(String), count: 20, points: 50, prefix: 'PK', usesPerCode: 1 });
    expect(body.codes).toHaveLength(20);
    expect(body.codes[0]).toMatch(/^PK[0-9A-Z]{2}-[0-9A-Z]{4}-[0-9A-Z]{2}-[0-9A-Z]$/);
    const csv = await post(`/api/v1/campaigns/${campaignId}/code-batches`, { count: 5, points: 10 }, { accept: 'text/csv' });
    expect(csv.statusCode).toBe(201);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('code');
    expect(lines.slice(1)).toHaveLength(5);
    expect(csv.body).not.toContain('\r');
    const excel = await post(`/api/v1/campaigns/${campaignId}/code-batches?format=excel&locale=pt-PT`, { count: 3, points: 10 });
    expect(excel.headers['content-type']).toMatch(/text\/csv/);
    expect(excel.body).toMatch(/^\uFEFFcode\r\n([0-9A-Z-]+\r\n){3}$/);

    const stats = await t.app.inject({ url: `/api/v1/code-batches/${body.id}`, headers: viewerAuth });
    expect(stats.json().stats).toMatchObject({ total: 20, used: 0, unused: 20 });
  });

  it('validates batch requests', async () => {
    expect((await post(`/api/v1/campaigns/${campaignId}/code-batches`, { count: 0, points: 5 })).statusCode).toBe(400);
    expect((await post(`/api/v1/campaigns/${campaignId}/code-batches`, { count: 1_000_001, points: 5 })).statusCode).toBe(400);
    expect((await post(`/api/v1/campaigns/${campaignId}/code-batches`, { count: 5, points: 5, prefix: 'OIL' })).statusCode).toBe(400);
    expect((await post(`/api/v1/campaigns/${randomUUID()}/code-batches`, { count: 5, points: 5 })).statusCode).toBe(404);
  });

  it('imports pre-printed codes from CSV, stored the same way, refusing duplicates', async () => {
    const first = await post(`/api/v1/campaigns/${campaignId}/code-batches`, { count: 1, points: 5 });
    const existing = first.json().codes[0];
    const csv = `code\nABC-123-XYZ\nabc123xyz\nDEF-456-QRS\n${existing}\nnot a code!\n`;
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/campaigns/${campaignId}/code-batches/import?points=30`,
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ imported: 2, duplicateCount: 2, invalidCount: 1, source: 'imported', points: 30 });
    const p = { id: randomUUID(), programId: (await t.sql`select id from programs`)[0]!.id as string, role: 'consumer' as const };
    const out = await codes.redeem(undefined, { participant: p, identity: { channel: 'web', externalId: 'x' }, codes: ['def456qrs'] });
    expect(out[0]).toMatchObject({ status: 'credited', points: 30 });

    const batchId = res.json().id;
    const used = await t.app.inject({ url: `/api/v1/code-batches/${batchId}/used`, headers: viewerAuth });
    expect(used.json().items).toEqual([expect.objectContaining({ participantId: p.id, points: 30, channel: 'web' })]);
    const usedCsv = await t.app.inject({ url: `/api/v1/code-batches/${batchId}/used`, headers: { ...viewerAuth, accept: 'text/csv' } });
    expect(usedCsv.body).toContain(p.id);
    expect(usedCsv.body.startsWith('codeId,redeemedAt,participantId,points,channel\n')).toBe(true);
    const usedExcel = await t.app.inject({ url: `/api/v1/code-batches/${batchId}/used?format=excel&locale=pl`, headers: viewerAuth });
    expect(usedExcel.body.startsWith('\uFEFFcodeId;redeemedAt;participantId;points;channel\r\n')).toBe(true);
    expect(usedExcel.body).toContain(`;${p.id};30;web`);

    // The import report as a file: every duplicate and invalid code, Excel-friendly for a Polish reader.
    const report = await t.app.inject({
      method: 'POST',
      url: `/api/v1/campaigns/${campaignId}/code-batches/import?points=30&format=excel&locale=pl`,
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: `code\nHJK-789-MNP\n${existing}\n???\n`,
    });
    expect(report.statusCode).toBe(201);
    expect(report.headers['x-imported']).toBe('1');
    expect(report.body).toBe(`\uFEFFcode;problem\r\n${existing};duplicate\r\n???;invalid\r\n`);
  });

  it('shows lockouts to managers and lets them clear one', async () => {
    const p = { id: randomUUID(), programId: (await t.sql`select id from programs`)[0]!.id as string, role: 'consumer' as const };
    const guesses = ['QQ000001', 'QQ000002', 'QQ000003', 'QQ000004', 'QQ000005'].map((b) => b + checkSymbol(b));
    await codes.redeem(undefined, { participant: p, identity: { channel: 'web', externalId: 'guesser' }, codes: guesses });
    const res = await t.app.inject({ url: '/api/v1/code-lockouts', headers: viewerAuth });
    const mine = res.json().items.find((l: { subject: string }) => l.subject === `p:${p.id}`);
    expect(mine).toMatchObject({ participantId: p.id, level: 0 });
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/code-lockouts/${encodeURIComponent(`p:${p.id}`)}`, headers: auth });
    expect(del.statusCode).toBe(204);
  });
});

describe('sell-out import report', () => {
  const sellOut = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url, headers: { ...auth, 'content-type': 'text/csv', ...headers }, payload: 'invoice,status\nFT-404,confirm\nFT-405,maybe\n' });

  it('is JSON by default, and a CSV (standard or Excel-friendly) when asked', async () => {
    const json = await sellOut('/api/v1/sales/sell-out');
    expect(json.statusCode).toBe(200);
    expect(json.json()).toMatchObject({ confirmed: 0, notFound: ['FT-404'] });

    const csv = await sellOut('/api/v1/sales/sell-out', { accept: 'text/csv' });
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.body.startsWith('item,value,sale_id,participant_id,kind,due_points\r\nconfirmed,0\r\n')).toBe(true);
    expect(csv.body).toContain('not_found,FT-404\r\n');

    const excel = await sellOut('/api/v1/sales/sell-out?format=excel&locale=pt-PT');
    expect(excel.body.startsWith('\uFEFFitem;value;sale_id;participant_id;kind;due_points\r\n')).toBe(true);
    expect(excel.body).toContain('not_found;FT-404\r\n');
    expect(excel.body).toMatch(/\r\nbad_line;"?3: /);
  });
});
