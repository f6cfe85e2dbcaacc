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

export interface LoggerSettings {
  level: string;
  pretty: boolean;
}

export function createLogger(settings: LoggerSettings, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
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
