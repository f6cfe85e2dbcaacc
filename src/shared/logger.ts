import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths that may carry phone numbers, codes or tokens. Logs never carry them in clear, so anything
 * that reaches a logger under these names is censored by pino before it is written.
 */
export const REDACT_PATHS = [
  'phone',
  '*.phone',
  '*.*.phone',
  'code',
  '*.code',
  '*.*.code',
  'codes',
  '*.codes',
  'token',
  '*.token',
  'text',
  '*.text',
  'req.headers.authorization',
  'req.headers["x-telegram-bot-api-secret-token"]',
  'headers.authorization',
  'authorization',
  '*.authorization',
  'secret',
  '*.secret',
  'password',
  '*.password',
];

/**
 * Error properties that carry what was sent, not what went wrong: grammY's GrammyError.payload holds
 * the call's parameters (setWebhook's secret_token, a message text), HTTP clients keep request
 * bodies and headers. They are dropped from every error, nested ones (HttpError.error, cause) too.
 */
const ERROR_FIELDS_DROPPED = new Set(['payload', 'body', 'rawBody', 'requestBody', 'request', 'response', 'config', 'headers']);

function serializeError(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 4) return '[nested]';
  const base: unknown = value instanceof Error ? pino.stdSerializers.errWithCause(value) : value;
  if (Array.isArray(base)) return base.map((v) => serializeError(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(base as Record<string, unknown>)) {
    if (!ERROR_FIELDS_DROPPED.has(key)) out[key] = serializeError(v, depth + 1);
  }
  return out;
}

interface RequestLike {
  method?: string;
  url?: string;
  host?: string;
  hostname?: string;
  ip?: string;
  headers?: Record<string, unknown>;
  socket?: { remoteAddress?: string; remotePort?: number };
}

/** Requests are logged by path only: query strings carry searches (`?search=<phone digits>`), tokens. */
function serializeRequest(req: RequestLike) {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? req.url.split('?')[0] : req.url,
    host: req.host ?? req.hostname,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  };
}

/**
 * Phone numbers inside channel ids: a WhatsApp message id is `false_<phone>@c.us_<hex>` and a
 * WhatsApp external id is the phone itself. Runs of 7+ digits keep their first two and last three.
 */
export function maskMessageId(id: string): string {
  return id.replace(/\d{7,}/g, (digits) => `${digits.slice(0, 2)}…${digits.slice(-3)}`);
}

const maskId = (value: unknown) => (typeof value === 'string' ? maskMessageId(value) : value);

/**
 * Serializers for every logger (Fastify's request logger included, as it inherits them): `err` and
 * `error` without payloads, `req` without the query string, message/chat ids without phones.
 */
export const LOG_SERIALIZERS = {
  err: serializeError,
  error: serializeError,
  req: serializeRequest,
  messageId: maskId,
  chatId: maskId,
  externalId: maskId,
};

export interface LoggerSettings {
  level: string;
  pretty: boolean;
}

export function createLogger(settings: LoggerSettings, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: LOG_SERIALIZERS,
    base: { service: 'punkto' },
  };
  if (settings.pretty && !destination) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' } } });
  }
  return destination ? pino(options, destination) : pino(options);
}

/** Masks a phone for the rare place where a human needs to recognise it: +48 *** *** 789. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return digits.length <= 3 ? '***' : `+${digits.slice(0, 2)}…${digits.slice(-3)}`;
}
