/**
 * The web chat: `GET /chat` (the page) and its JSON API under /chat/api. A session is a random
 * token the server issues (and keeps, as its hash: the chat id) and the page keeps in localStorage
 * and sends as `x-chat-token`; a token the server did not issue is no session.
 *
 * Limits are per session and per address (the client address honours TRUST_PROXY): photos only
 * from registered participants, checked before the body is read, real images only, once per
 * message id, within a daily quota; they are handed to the flows in memory, never stored here.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sql } from '../../db/sql.js';
import type { DialogEngine } from '../../dialog/engine.js';
import { localeFromTag, LOCALES, type I18n, type Locale } from '../../i18n/index.js';
import { randomToken } from '../../shared/ids.js';
import { AppError } from '../../shared/errors.js';
import { renderChatPage } from '../../channels/web/page.js';
import { webChatId, webMessageMediaKey, webMessagesAfter, webToInbound } from '../../channels/web/adapter.js';
import { imageTypeOf } from '../../channels/web/photo-check.js';
import * as webChat from '../../db/web/web-chat-repo.js';
import { inlinePageCsp } from '../plugins/security.js';
import { createPollWaiters } from '../web-poll.js';
import type { RouteModule } from '../server.js';

export interface WebchatDeps {
  sql: Sql;
  engine: DialogEngine;
  i18n: I18n;
  defaultLocale: Locale;
  programName?: string;
  /** Requests per minute per client on the API (default 120). */
  ratePerMinute?: number;
  maxPhotoBytes?: number;
  /** Photos a participant may send from the web chat per day, and their total size. */
  photoQuota?: { photos: number; bytes: number };
  /** Stored photos (the media store) that messages show by key, e.g. receipts on a moderator's card. */
  loadMedia?: (mediaKey: string) => Promise<Buffer | null | undefined>;
}

const MEDIA_TYPES: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif' };

/** The first of the browser's languages that is one of ours. */
export function localeFromAcceptLanguage(header: string | undefined, fallback: Locale): Locale {
  const tags = (header ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^q=([\d.]+)$/.exec(p.trim())).find(Boolean);
      return { tag: tag ?? '', q: q ? Number(q[1]) : 1 };
    })
    .filter((x) => x.tag)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of tags) {
    const l = localeFromTag(tag);
    if (l) return l;
  }
  return fallback;
}

const ChatId = z.string().regex(/^[\w-]{1,100}$/);
const TOKEN = /^[A-Za-z0-9_-]{20,100}$/;
const tokenOf = (request: FastifyRequest) => {
  const token = request.headers['x-chat-token'];
  return typeof token === 'string' && TOKEN.test(token) ? token : undefined;
};
/** Rate-limit key of a session (its hash), else the address. */
const sessionKey = (request: FastifyRequest) => {
  const token = tokenOf(request);
  return token ? `s:${webChatId(token)}` : `ip:${request.ip}`;
};

export function webchatRoutes(deps: WebchatDeps): RouteModule {
  const maxPhoto = deps.maxPhotoBytes ?? 10 * 1024 * 1024;
  const quota = deps.photoQuota ?? { photos: 30, bytes: 100 * 1024 * 1024 };
  const perSession = { max: deps.ratePerMinute ?? 120, timeWindow: '1 minute', keyGenerator: sessionKey };
  // Many people may share one address (an office, a mobile carrier's NAT): the address limit is wider.
  const perAddress = { max: (deps.ratePerMinute ?? 120) * 10, timeWindow: '1 minute' };
  const routeConfig = { rateLimit: perSession };

  return async (scope: FastifyInstance) => {
    const app = scope.withTypeProvider<ZodTypeProvider>();
    app.addContentTypeParser(/^image\//, { parseAs: 'buffer', bodyLimit: maxPhoto }, (_req, body, done) => done(null, body));
    const polls = createPollWaiters(deps.sql);
    // Before the server stops waiting for open requests: every long poll answers at once.
    app.addHook('preClose', async () => polls.endAll());
    // A second limit beside the route's per-session one (the plugin runs one limiter per request).
    const checkAddress = app.createRateLimit({ ...perAddress, keyGenerator: (r: FastifyRequest) => `ip:${r.ip}` });
    const addressLimit = async (request: FastifyRequest) => {
      const limit = await checkAddress(request);
      if (!limit.isAllowed && limit.isExceeded) throw new AppError('rate_limited', 'Too many requests from this address');
    };

    const session = async (request: FastifyRequest): Promise<string> => {
      const token = tokenOf(request);
      const chatId = token ? webChatId(token) : undefined;
      if (!chatId || !(await webChat.sessionExists(deps.sql, chatId))) {
        throw new AppError('unauthorized', 'Missing or unknown chat session: POST /chat/api/session for one');
      }
      return chatId;
    };
    const hint = (request: FastifyRequest, lang?: string) =>
      localeFromTag(lang) ?? localeFromAcceptLanguage(request.headers['accept-language'], deps.defaultLocale);
    const refuse = (request: FastifyRequest, code: 'forbidden' | 'invalid_input' | 'rate_limited', key: string) => {
      const text = deps.i18n.t(hint(request))(key);
      return new AppError(code, text, { details: { text } });
    };

    app.get(
      '/chat',
      { schema: { hide: true, querystring: z.object({ lang: z.enum(LOCALES).optional() }) } },
      async (request, reply) => {
        const locale = request.query.lang ?? localeFromAcceptLanguage(request.headers['accept-language'], deps.defaultLocale);
        const html = renderChatPage(locale, deps.i18n.t(locale), deps.programName ?? 'Punkto');
        return reply
          .header('content-type', 'text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .header('content-security-policy', inlinePageCsp(html))
          .send(html);
      },
    );

    app.post(
      '/chat/api/session',
      {
        config: { rateLimit: { max: 10, timeWindow: '1 minute' } },
        bodyLimit: 1024,
        schema: { hide: true, body: z.object({ lang: z.string().max(20).optional() }).optional() },
      },
      async (_request, reply) => {
        const token = randomToken(24);
        await webChat.insertSession(deps.sql, webChatId(token));
        return reply.code(201).send({ token });
      },
    );

    app.post(
      '/chat/api/messages',
      {
        config: routeConfig,
        onRequest: addressLimit,
        bodyLimit: 16 * 1024,
        schema: {
          hide: true,
          body: z.union([
            z.object({ id: ChatId, text: z.string().min(1).max(2000), lang: z.string().max(20).optional() }),
            z.object({ id: ChatId, choice: z.string().min(1).max(64), label: z.string().max(200).optional(), lang: z.string().max(20).optional() }),
          ]),
        },
      },
      async (request) => {
        const chatId = await session(request);
        const body = request.body;
        const input = 'text' in body ? { kind: 'text' as const, text: body.text } : { kind: 'choice' as const, value: body.choice };
        const inbound = webToInbound(deps.sql, input, { chatId, localeHint: hint(request, body.lang), network: request.ip }, `${chatId}:${body.id}`);
        // The participant's own side of the conversation, so a reload shows both sides.
        const shown = 'text' in body ? (inbound.kind === 'text' ? inbound.text : body.text.trim()) : body.label;
        if (shown) await webChat.insertOwnMessage(deps.sql, chatId, body.id, { text: shown, from: 'me' });
        return deps.engine.receive(inbound);
      },
    );

    // The checks that need no bytes run before the body is read: a session that is not a
    // registered participant's never makes us receive 10 MB.
    const photoSender = new WeakMap<FastifyRequest, { chatId: string; participantId: string }>();
    app.post(
      '/chat/api/photo',
      {
        config: { rateLimit: { max: 20, timeWindow: '1 minute', keyGenerator: sessionKey } },
        onRequest: [
          addressLimit,
          async (request) => {
            const chatId = await session(request);
            const participantId = await webChat.registeredParticipantOf(deps.sql, chatId);
            if (!participantId) throw refuse(request, 'forbidden', 'bot:web.register_first');
            photoSender.set(request, { chatId, participantId });
          },
        ],
        bodyLimit: maxPhoto,
        schema: { hide: true, querystring: z.object({ id: ChatId, caption: z.string().max(500).optional() }) },
      },
      async (request) => {
        const { chatId, participantId } = photoSender.get(request)!;
        const bytes = request.body as Buffer;
        if (!Buffer.isBuffer(bytes) || bytes.length === 0) throw new AppError('invalid_input', 'Send the photo as the request body with an image/* content type');
        const mimeType = imageTypeOf(bytes);
        if (!mimeType) throw refuse(request, 'invalid_input', 'bot:web.not_image');
        // A repeated id is the same message: answered like the engine answers a repeat, counted once.
        if (!(await webChat.insertOwnMessage(deps.sql, chatId, request.query.id, { text: '📷', from: 'me' }))) return { status: 'duplicate' as const };
        if (!(await webChat.takePhotoQuota(deps.sql, participantId, bytes.length, quota))) throw refuse(request, 'rate_limited', 'bot:web.photo_quota');
        const inbound = webToInbound(
          deps.sql,
          { kind: 'photo', ref: `${chatId}:${request.query.id}`, bytes, mimeType, caption: request.query.caption },
          { chatId, localeHint: hint(request), network: request.ip },
          `${chatId}:${request.query.id}`,
        );
        return deps.engine.receive(inbound);
      },
    );

    // The photo a message of this chat shows: the session must own the message, so a receipt on a
    // moderator's card is never readable by guessing message ids.
    app.get(
      '/chat/api/media/:messageId',
      {
        config: { rateLimit: { max: 120, timeWindow: '1 minute', keyGenerator: sessionKey } },
        schema: { hide: true, params: z.object({ messageId: z.coerce.number().int().positive().max(2 ** 53 - 1) }) },
      },
      async (request, reply) => {
        const chatId = await session(request);
        const mediaKey = await webMessageMediaKey(deps.sql, chatId, request.params.messageId);
        const bytes = mediaKey && deps.loadMedia ? await deps.loadMedia(mediaKey) : undefined;
        if (!mediaKey || !bytes) throw new AppError('not_found', 'No such picture in this chat');
        const ext = mediaKey.slice(mediaKey.lastIndexOf('.') + 1).toLowerCase();
        return reply
          .header('content-type', MEDIA_TYPES[ext] ?? 'application/octet-stream')
          .header('cache-control', 'private, max-age=3600')
          .send(bytes);
      },
    );

    app.get(
      '/chat/api/messages',
      {
        config: { rateLimit: { max: 600, timeWindow: '1 minute', keyGenerator: sessionKey } },
        schema: {
          hide: true,
          querystring: z.object({ after: z.coerce.number().int().min(0).default(0), wait: z.coerce.number().min(0).max(25).default(0) }),
        },
      },
      async (request) => {
        const chatId = await session(request);
        const release = polls.open(chatId, request.ip);
        if (!release) throw new AppError('rate_limited', 'Too many open polls for this chat or address');
        try {
          const deadline = Date.now() + request.query.wait * 1000;
          // Long poll: answer as soon as something arrives (a NOTIFY wakes us), or empty when the
          // wait is over or the server stops. The 5-s re-check covers a NOTIFY lost to a reconnect.
          for (;;) {
            const messages = await webMessagesAfter(deps.sql, chatId, request.query.after);
            const left = deadline - Date.now();
            if (messages.length || left <= 0 || request.raw.destroyed || polls.closing) return { messages };
            await polls.wait(chatId, Math.min(left, 5000));
          }
        } finally {
          release();
        }
      },
    );
  };
}
