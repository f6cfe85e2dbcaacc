import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { buildServer } from '../../../src/http/server.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';
import { receiptMediaRoutes, receiptRoutes } from '../../../src/http/routes/receipts.js';
import { startReceiptWorker, createReceiptQueue } from '../../../src/jobs/workers/receipts.js';
import { testLogger } from '../../helpers/logger.js';
import { TEST_REDIS_URL, clearPrefix, testQueuePrefix } from '../../helpers/redis.js';
import { receiptsWorld, type ReceiptsWorld } from '../../fixtures/receipts/setup.js';
import { PT_QR, receiptPhoto } from '../../fixtures/receipts/images.js';

let w: ReceiptsWorld;
let app: FastifyInstance;
let redis: Redis;
let moderatorToken: string;
let viewerToken: string;
const prefix = testQueuePrefix();
const auth = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  w = await receiptsWorld();
  redis = new Redis(TEST_REDIS_URL);
  const adminTokens = createAdminTokens({ sql: w.db.sql });
  moderatorToken = (await adminTokens.create({ name: 'mod-ana', role: 'moderator' })).token;
  viewerToken = (await adminTokens.create({ name: 'viewer', role: 'viewer' })).token;
  const mediaSecret = randomBytes(32);
  app = await buildServer({
    logger: testLogger(),
    sql: w.db.sql,
    redis,
    adminTokens,
    apiRoutes: [receiptRoutes({ sql: w.db.sql, receipts: w.receipts, i18n: w.i18n, mediaSecret, clock: w.clock })],
    publicRoutes: [receiptMediaRoutes({ sql: w.db.sql, receipts: w.receipts, mediaSecret, clock: w.clock })],
  });
});

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  await clearPrefix(prefix);
  await w?.close();
});

describe('receipts API', () => {
  it('lists pending receipts with what was read, flags and a working signed image URL', async () => {
    const campaignId = await w.campaign({ pointsPerUnit: 2 });
    const p = await w.participant();
    const photo = await receiptPhoto(PT_QR);
    const id = await w.submit(p, photo);

    const res = await app.inject({ method: 'GET', url: '/api/v1/receipts?status=pending', headers: auth(moderatorToken) });
    expect(res.statusCode).toBe(200);
    const item = res.json().items.find((i: { id: string }) => i.id === id);
    expect(item).toMatchObject({
      status: 'pending',
      campaignId,
      reading: 'pt_at',
      sellerTaxId: '509442013',
      issuedOn: '2026-09-18',
      total: { amount: 12.3, currency: 'EUR' },
      computedPoints: 24,
      flags: [],
      fields: { G: 'FS 2026/88', H: 'CSDF7T5H-88' },
    });
    const image = await app.inject({ method: 'GET', url: item.image.url });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/jpeg');
    expect(image.rawPayload.equals(photo)).toBe(true);

    // A tampered (one character changed, whatever it was) or expired link does not open the photo.
    expect((await app.inject({ method: 'GET', url: item.image.url.replace(/sig=(.)/, (_: string, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`) })).statusCode).toBe(403);
    w.clock.advance(2 * 3600_000);
    expect((await app.inject({ method: 'GET', url: item.image.url })).statusCode).toBe(403);
    w.clock.set('2026-09-20T10:00:00Z');
  });

  it('needs the moderator role to see or decide receipts', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/receipts' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/v1/receipts', headers: auth(viewerToken) })).statusCode).toBe(403);
  });

  it('approves with computed or given points, once; a second approval is a 409', async () => {
    const p = await w.participant();
    const id = await w.submit(p, await receiptPhoto(PT_QR.replace('H:CSDF7T5H-88', 'H:CSDF7T5H-1088').replace('G:FS 2026/88', 'G:FS 2026/1088')));
    const first = await app.inject({ method: 'POST', url: `/api/v1/receipts/${id}/approve`, headers: auth(moderatorToken), payload: { points: 40 } });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ status: 'approved', points: 40, decidedBy: 'admin:mod-ana', balance: { available: 40 } });
    const again = await app.inject({ method: 'POST', url: `/api/v1/receipts/${id}/approve`, headers: auth(moderatorToken), payload: {} });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'conflict', details: { status: 'approved', points: 40 } });
    expect((await w.ledger.balance(w.db.sql, w.programId, p)).available).toBe(40);
  });

  it('rejects with a reason from the localized list or free text, and validates input', async () => {
    const reasons = await app.inject({ method: 'GET', url: '/api/v1/receipts/reject-reasons', headers: auth(moderatorToken) });
    expect(reasons.json().reasons).toContainEqual({
      code: 'duplicate',
      labels: { pl: 'ten paragon został już zgłoszony', 'pt-PT': 'este talão já foi enviado', 'pt-BR': 'este talão já foi enviado', be: 'гэты чэк ужо дасылалі' },
    });
    const p = await w.participant();
    const id = await w.submit(p, await receiptPhoto(PT_QR.replace('H:CSDF7T5H-88', 'H:CSDF7T5H-2088').replace('G:FS 2026/88', 'G:FS 2026/2088')));
    const empty = await app.inject({ method: 'POST', url: `/api/v1/receipts/${id}/reject`, headers: auth(moderatorToken), payload: {} });
    expect(empty.statusCode).toBe(400);
    const bad = await app.inject({ method: 'POST', url: `/api/v1/receipts/${id}/reject`, headers: auth(moderatorToken), payload: { reason: 'because' } });
    expect(bad.statusCode).toBe(400);
    const ok = await app.inject({ method: 'POST', url: `/api/v1/receipts/${id}/reject`, headers: auth(moderatorToken), payload: { note: 'Foto do ecrã, não do recibo' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'rejected', rejectNote: 'Foto do ecrã, não do recibo' });
    const notices = await w.outbox(p);
    expect(notices.at(-1)!.message.text).toContain('Foto do ecrã, não do recibo');
    expect((await app.inject({ method: 'POST', url: '/api/v1/receipts/00000000-0000-4000-8000-000000000000/approve', headers: auth(moderatorToken), payload: {} })).statusCode).toBe(404);
  });

  it('lets a manager set campaign receipt rules, refusing nonsense', async () => {
    const adminTokens = createAdminTokens({ sql: w.db.sql });
    const manager = (await adminTokens.create({ name: 'boss', role: 'manager' })).token;
    const [c] = await w.db.sql<Array<{ id: string }>>`insert into campaigns (program_id, name, starts_at, ends_at)
      values (${w.programId}, 'x', now(), now() + interval '1 day') returning id`;
    const url = `/api/v1/campaigns/${c!.id}/receipt-rules`;
    expect((await app.inject({ method: 'PUT', url, headers: auth(moderatorToken), payload: {} })).statusCode).toBe(403);
    expect((await app.inject({ method: 'PUT', url, headers: auth(manager), payload: { minTotal: -5 } })).statusCode).toBe(400);
    const put = await app.inject({ method: 'PUT', url, headers: auth(manager), payload: { fixedPoints: 50, allowedSellers: ['509442013'], autoApprove: true } });
    expect(put.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url, headers: auth(manager) })).json()).toMatchObject({ fixedPoints: 50, autoApprove: true });
  });
});

describe('receipts worker', () => {
  it('processes an enqueued receipt and, through the sweeper, one whose job was lost', async () => {
    await w.campaign({ autoApprove: true, fixedPoints: 15 });
    const worker = startReceiptWorker({
      connection: () => new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }),
      prefix,
      receipts: w.receipts,
      logger: testLogger(),
      sweepIntervalMs: 3_600_000,
      staleAfterMs: 0,
    });
    const queue = createReceiptQueue({ connection: () => new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null }), prefix });
    try {
      const p = await w.participant();
      const queued = await w.submit(p, await receiptPhoto(PT_QR.replace('H:CSDF7T5H-88', 'H:CSDF7T5H-3088').replace('G:FS 2026/88', 'G:FS 2026/3088')), { process: false });
      await queue.enqueue(queued);
      const lost = await w.submit(p, await receiptPhoto(PT_QR.replace('H:CSDF7T5H-88', 'H:CSDF7T5H-4088').replace('G:FS 2026/88', 'G:FS 2026/4088'), { seed: 8 }), { process: false });
      const deadline = Date.now() + 20_000;
      const status = async (id: string) => (await w.receipts.get(w.db.sql, id))!.status;
      while ((await status(queued)) === 'received' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await status(queued)).toBe('approved');
      // Never enqueued (as if Redis had been flushed): the sweeper finds it in Postgres.
      expect(await worker.sweep()).toBeGreaterThanOrEqual(1);
      while ((await status(lost)) === 'received' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await status(lost)).toBe('approved');
      expect((await w.ledger.balance(w.db.sql, w.programId, p)).available).toBe(30);
    } finally {
      await queue.close();
      await worker.close();
    }
  });
});
