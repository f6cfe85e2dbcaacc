/**
 * Stored photos in the web chat (a receipt on a moderator's review card): the page gets a path,
 * and only the session owning the message can download the picture.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildEngine, createTestDatabase, i18n, logger, type TestDatabase } from '../../helpers/dialog-harness.js';
import { TEST_REDIS_URL } from '../../helpers/redis.js';
import { buildServer } from '../../../src/http/server.js';
import { createAdminTokens } from '../../../src/services/admin-tokens.js';
import { webchatRoutes } from '../../../src/http/routes/webchat.js';
import { createWebAdapter, webChatId, type WebMessage } from '../../../src/channels/web/adapter.js';
import { createDirectoryMediaStore, receiptMediaKey } from '../../../src/services/receipts/index.js';
import { sha256Hex } from '../../../src/shared/ids.js';
import { receiptPhoto, PT_QR } from '../../fixtures/receipts/images.js';

let db: TestDatabase;
let app: FastifyInstance;
let redis: Redis;
let mediaDir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  mediaDir = await mkdtemp(path.join(tmpdir(), 'punkto-webmedia-'));
  const media = createDirectoryMediaStore(mediaDir);
  const { engine } = buildEngine(db.sql);
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await buildServer({
    logger,
    sql: db.sql,
    redis,
    adminTokens: createAdminTokens({ sql: db.sql }),
    publicRoutes: [webchatRoutes({ sql: db.sql, engine, i18n, defaultLocale: 'pl', loadMedia: (key) => media.get(key) })],
    apiRoutes: [],
  });
  photo = await receiptPhoto(PT_QR);
  mediaKey = receiptMediaKey(sha256Hex(photo), 'jpg');
  await media.put(mediaKey, photo);
});
afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  await db?.drop();
  await rm(mediaDir, { recursive: true, force: true });
});

let photo: Buffer;
let mediaKey: string;

async function session(): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/chat/api/session', payload: {} });
  return res.json<{ token: string }>().token;
}

const messages = async (token: string) =>
  (await app.inject({ method: 'GET', url: '/chat/api/messages?after=0', headers: { 'x-chat-token': token } })).json<{ messages: WebMessage[] }>().messages;

describe('web chat: stored photos', () => {
  it('shows a receipt card’s photo to its own chat only', async () => {
    const moderator = await session();
    const stranger = await session();
    // What the outbox sender does with a moderator's review card on the web channel.
    const sent = await createWebAdapter({ sql: db.sql }).send(
      { channel: 'web', externalId: webChatId(moderator), chatId: webChatId(moderator) },
      { text: '🧾 Paragon do sprawdzenia', image: { mediaKey } },
    );
    expect(sent.status).toBe('sent');

    const [card] = await messages(moderator);
    expect(card!.text).toBe('🧾 Paragon do sprawdzenia');
    expect(card!.image).toEqual({ media: `/chat/api/media/${card!.id}` });
    expect(JSON.stringify(card)).not.toContain(mediaKey); // the storage key never reaches the browser

    const own = await app.inject({ method: 'GET', url: card!.image!.media!, headers: { 'x-chat-token': moderator } });
    expect(own.statusCode).toBe(200);
    expect(own.headers['content-type']).toBe('image/jpeg');
    expect(own.headers['cache-control']).toBe('private, max-age=3600');
    expect(own.rawPayload.equals(photo)).toBe(true);

    const other = await app.inject({ method: 'GET', url: card!.image!.media!, headers: { 'x-chat-token': stranger } });
    expect(other.statusCode).toBe(404);
    expect(other.rawPayload.includes(photo.subarray(0, 64))).toBe(false);
    const anonymous = await app.inject({ method: 'GET', url: card!.image!.media! });
    expect(anonymous.statusCode).toBe(401);
    expect((await messages(stranger)).length).toBe(0);
  });

  it('a text message has no picture to download; a missing file is a 404', async () => {
    const token = await session();
    const chatId = webChatId(token);
    const adapter = createWebAdapter({ sql: db.sql });
    await adapter.send({ channel: 'web', externalId: chatId, chatId }, { text: 'hello' });
    await adapter.send({ channel: 'web', externalId: chatId, chatId }, { text: 'gone', image: { mediaKey: receiptMediaKey('f'.repeat(64), 'jpg') } });
    const [plain, gone] = await messages(token);
    expect(plain!.image).toBeUndefined();
    for (const url of [`/chat/api/media/${plain!.id}`, gone!.image!.media!]) {
      expect((await app.inject({ method: 'GET', url, headers: { 'x-chat-token': token } })).statusCode).toBe(404);
    }
  });

  it('the page renders such photos through an authenticated fetch (blob URL allowed by the CSP)', async () => {
    const page = await app.inject({ method: 'GET', url: '/chat' });
    expect(page.headers['content-security-policy']).toContain('img-src');
    expect(page.headers['content-security-policy']).toMatch(/img-src[^;]*blob:/);
    expect(page.body).toContain('m.image.media');
    expect(page.body).toContain('URL.createObjectURL');
  });
});
