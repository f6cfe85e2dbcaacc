/**
 * The web chat: `GET /chat` (the page) and its JSON API under /chat/api. A session is a random
 * token the page keeps in localStorage and sends as `x-chat-token`; the chat id is its hash.
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
import { storeWebUpload, webChatId, webMessageMediaKey, webMessagesAfter, webToInbound } from '../../channels/web/adapter.js';
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

export function webchatRoutes(deps: WebchatDeps): RouteModule {
  const maxPhoto = deps.maxPhotoBytes ?? 10 * 1024 * 1024;
  const rateLimit = { max: deps.ratePerMinute ?? 120, timeWindow: '1 minute' };

  return async (scope: FastifyInstance) => {
    const app = scope.withTypeProvider<ZodTypeProvider>();
    app.addContentTypeParser(/^image\//, { parseAs: 'buffer', bodyLimit: maxPhoto }, (_req, body, done) => done(null, body));

    const session = (request: FastifyRequest): string => {
      const token = request.headers['x-chat-token'];
      if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{20,100}$/.test(token)) {
        throw new AppError('unauthorized', 'Missing or invalid chat session');
      }
      return webChatId(token);
    };
    const hint = (request: FastifyRequest, lang?: string) =>
      localeFromTag(lang) ?? localeFromAcceptLanguage(request.headers['accept-language'], deps.defaultLocale);

    app.get(
      '/chat',
      { schema: { hide: true, querystring: z.object({ lang: z.enum(LOCALES).optional() }) } },
      async (request, reply) => {
        const locale = request.query.lang ?? localeFromAcceptLanguage(request.headers['accept-language'], deps.defaultLocale);
        return reply
          .header('content-type', 'text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .header('content-security-policy', "default-src 'self'; img-src 'self' data: blob: https: http:; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
          .send(renderChatPage(locale, deps.i18n.t(locale), deps.programName ?? 'Punkto'));
      },
    );

    app.post(
      '/chat/api/session',
      {
        config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
        schema: { hide: true, body: z.object({ lang: z.string().max(20).optional() }).optional() },
      },
      async (_request, reply) => reply.code(201).send({ token: randomToken(24) }),
    );

    app.post(
      '/chat/api/messages',
      {
        config: { rateLimit },
        schema: {
          hide: true,
          body: z.union([
            z.object({ id: ChatId, text: z.string().min(1).max(2000), lang: z.string().max(20).optional() }),
            z.object({ id: ChatId, choice: z.string().min(1).max(64), lang: z.string().max(20).optional() }),
          ]),
        },
      },
      async (request) => {
        const chatId = session(request);
        const body = request.body;
        const input = 'text' in body ? { kind: 'text' as const, text: body.text } : { kind: 'choice' as const, value: body.choice };
        const inbound = webToInbound(deps.sql, input, { chatId, localeHint: hint(request, body.lang) }, `${chatId}:${body.id}`);
        return deps.engine.receive(inbound);
      },
    );

    app.post(
      '/chat/api/photo',
      {
        config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
        bodyLimit: maxPhoto,
        schema: { hide: true, querystring: z.object({ id: ChatId, caption: z.string().max(500).optional() }) },
      },
      async (request) => {
        const chatId = session(request);
        const bytes = request.body as Buffer;
        if (!Buffer.isBuffer(bytes) || bytes.length === 0) throw new AppError('invalid_input', 'Send the photo as the request body with an image/* content type');
        const mimeType = String(request.headers['content-type'] ?? 'image/jpeg').split(';')[0]!.trim();
        const uploadId = await storeWebUpload(deps.sql, chatId, mimeType, bytes);
        const inbound = webToInbound(
          deps.sql,
          { kind: 'photo', uploadId, mimeType, size: bytes.length, caption: request.query.caption },
          { chatId, localeHint: hint(request) },
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
        config: { rateLimit: { max: 120, timeWindow: '1 minute' } },
        schema: { hide: true, params: z.object({ messageId: z.coerce.number().int().positive().max(2 ** 53 - 1) }) },
      },
      async (request, reply) => {
        const chatId = session(request);
        const mediaKey = await webMessageMediaKey(deps.sql, chatId, request.params.messageId);
        const bytes = mediaKey && deps.loadMedia ? await deps.loadMedia(mediaKey) : undefined;
        if (!mediaKey || !bytes) throw new AppError('not_found', 'No such picture in this chat');
        const ext = mediaKey.slice(mediaKey.lastIndexOf('.') + 1).toLowerCase();
        return reply
          .header('content-type', MEDIA_TYPES[ext] ?? 'application/octet-stream')
          .header('cache-control', 'private, max-age=3600')
          .header('x-content-type-options', 'nosniff')
          .send(bytes);
      },
    );

    app.get(
      '/chat/api/messages',
      {
        config: { rateLimit: { max: 600, timeWindow: '1 minute' } },
        schema: {
          hide: true,
          querystring: z.object({ after: z.coerce.number().int().min(0).default(0), wait: z.coerce.number().min(0).max(25).default(0) }),
        },
      },
      async (request) => {
        const chatId = session(request);
        const deadline = Date.now() + request.query.wait * 1000;
        // Long poll: answer as soon as something arrives, or empty when the wait is over.
        for (;;) {
          const messages = await webMessagesAfter(deps.sql, chatId, request.query.after);
          if (messages.length || Date.now() >= deadline || request.raw.destroyed) return { messages };
          await new Promise((r) => setTimeout(r, 300));
        }
      },
    );
  };
}
