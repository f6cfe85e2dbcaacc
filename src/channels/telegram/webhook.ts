/**
 * The webhook endpoint for webhook mode, as a public RouteModule. grammY's Fastify adapter checks
 * `X-Telegram-Bot-Api-Secret-Token` in constant time (401 otherwise) and answers only after the
 * update was handled, i.e. after the engine committed; a failure answers 500 and Telegram
 * re-delivers. Exempt from rate limiting: Telegram would take a 429 for an outage and back off.
 */
import type { FastifyInstance } from 'fastify';
import { webhookCallback, type Bot } from 'grammy';

/** The route path: the path of TELEGRAM_WEBHOOK_URL, so the URL given to Telegram is the one served. */
export function webhookPath(webhookUrl: string): string {
  const path = new URL(webhookUrl).pathname.replace(/\/+$/, '');
  return path || '/telegram/webhook';
}

export function telegramWebhookRoutes(options: { bot: Bot; secret: string; path: string }) {
  const handle = webhookCallback(options.bot, 'fastify', {
    secretToken: options.secret,
    // Telegram gives up on a request after ~60 s; 'throw' leaves the update unconfirmed.
    timeoutMilliseconds: 25_000,
    onTimeout: 'throw',
  });
  return (app: FastifyInstance): void => {
    app.post(options.path, { config: { rateLimit: false }, schema: { hide: true } }, async (request, reply) => {
      await handle(request, reply);
      return reply;
    });
  };
}
