import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { GrammyError, HttpError } from 'grammy';
import { describe, expect, it } from 'vitest';
import { createLogger, maskMessageId } from '../../../src/shared/logger.js';

/** A real pino logger writing JSON lines into memory, as it would to stdout. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'trace', pretty: false }, stream);
  return { logger, lines, text: () => lines.join('\n'), records: () => lines.map((l) => JSON.parse(l) as Record<string, any>) };
}

const SECRET = 'Zx9-webhook-secret-42';
const PHONE = '48123456789';

describe('logger', () => {
  it('logs a failed Telegram call without the request payload (setWebhook carries secret_token)', () => {
    const log = capture();
    const error = new GrammyError(
      "Call to 'setWebhook' failed!",
      { ok: false, error_code: 400, description: 'Bad Request: bad webhook' },
      'setWebhook',
      { url: 'https://example.org/telegram', secret_token: SECRET },
    );
    log.logger.warn({ err: error, retryInMs: 1000 }, 'telegram: setWebhook failed');
    expect(log.text()).not.toContain(SECRET);
    const record = log.records()[0]!;
    // What a person debugging needs is still there.
    expect(record.err).toMatchObject({ type: 'GrammyError', method: 'setWebhook', error_code: 400, description: 'Bad Request: bad webhook' });
    expect(record.err.message).toContain('setWebhook');
    expect(record.err.stack).toBeTruthy();
  });

  it('strips payloads from wrapped causes too', () => {
    const log = capture();
    const inner = new GrammyError('failed', { ok: false, error_code: 401, description: 'Unauthorized' }, 'setWebhook', {
      secret_token: SECRET,
    });
    const outer = new HttpError('Network request for setWebhook failed', inner);
    log.logger.error({ err: new Error('start failed', { cause: outer }) }, 'boom');
    log.logger.error({ error: outer }, 'boom again');
    expect(log.text()).not.toContain(SECRET);
    expect(log.text()).toContain('Unauthorized');
  });

  it('masks phone numbers inside WhatsApp message ids (the dialog engine logs them when a turn fails)', () => {
    const log = capture();
    const messageId = `false_${PHONE}@c.us_3EB0C431D0B8B4F9E5A2`;
    log.logger.error({ err: new Error('flow bug'), channel: 'whatsapp', messageId }, 'dialog turn failed');
    expect(log.text()).not.toContain(PHONE);
    expect(log.records()[0]!.messageId).toBe(maskMessageId(messageId));
    expect(maskMessageId(messageId)).toMatch(/^false_48…789@c\.us_3EB0C431D0B8B4F9E5A2$/);
    // Telegram ids (chat:message) keep their short message number readable.
    expect(maskMessageId('123:45')).toBe('123:45');
  });

  it('logs HTTP requests without the query string (searches carry phone digits)', async () => {
    const log = capture();
    const app = Fastify({ loggerInstance: log.logger });
    app.get('/api/v1/participants', async () => ({ items: [] }));
    await app.ready();
    const res = await app.inject({ url: `/api/v1/participants?search=${PHONE}&limit=5` });
    expect(res.statusCode).toBe(200);
    await app.close();
    const incoming = log.records().find((r) => r.msg === 'incoming request');
    expect(incoming?.req).toMatchObject({ method: 'GET', url: '/api/v1/participants' });
    expect(log.text()).not.toContain(PHONE);
  });
});
