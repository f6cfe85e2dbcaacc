/**
 * Browser-facing security: the headers every answer carries (helmet), the web chat's own CSP
 * (hashes of its inline script and style, so nothing else can run in it), access to /docs, and
 * the client key of the rate limits (the address Fastify resolved, honouring TRUST_PROXY).
 */
import { createHash } from 'node:crypto';
import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { AppError } from '../../shared/errors.js';
import type { AdminTokens } from '../../services/admin-tokens.js';

/**
 * The default policy: our own scripts only (the admin panel at /admin is built to files, so
 * `script-src 'self'` is all it needs), never framed, no referrer leaves the origin.
 */
export const HELMET_OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      baseUri: ["'self'"],
      scriptSrc: ["'self'"],
      // Swagger UI sets styles inline; styles cannot run code.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'blob:', 'https:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'", 'data:'],
      objectSrc: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  // Images are fetched by Telegram and WhatsApp servers, not only by our pages.
  crossOriginResourcePolicy: { policy: 'same-site' },
};

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** CSP for a self-contained page: exactly its inline <script> and <style> blocks may run. */
export function inlinePageCsp(html: string): string {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => sha256(m[1]!));
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => sha256(m[1]!));
  return [
    "default-src 'self'",
    `script-src ${scripts.join(' ') || "'none'"}`,
    `style-src ${styles.join(' ') || "'none'"}`,
    // Broadcast and reward pictures are managers' URLs; stored photos come as blob: URLs.
    "img-src 'self' data: blob: https: http:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** `/docs` behind an admin token: `Authorization: Bearer …`, or `?token=` once (then a cookie for its assets). */
export function docsGuard(tokens: AdminTokens): onRequestHookHandler {
  return async (request, reply) => {
    if (!request.url.startsWith('/docs')) return;
    const header = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const query = new URL(request.url, 'http://x').searchParams.get('token') ?? undefined;
    const cookie = /(?:^|;\s*)punkto_docs=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
    const token = header ?? query ?? (cookie ? decodeURIComponent(cookie) : undefined);
    if (!token || !(await tokens.authenticate(token))) throw new AppError('unauthorized', 'The API docs need an admin token (Authorization: Bearer …, or /docs?token=…)');
    if (query) reply.header('set-cookie', `punkto_docs=${encodeURIComponent(query)}; Path=/docs; HttpOnly; SameSite=Strict`);
  };
}

/** Rate-limit key: the client address as Fastify resolved it (X-Forwarded-For only from TRUST_PROXY hops). */
export const rateLimitKey = (request: FastifyRequest): string => request.ip;
