import { isIP } from 'node:net';
import { z } from 'zod';
import { LOCALES, LOCALE_TAGS, normalizeLocale, type Locale } from './shared/locale.js';

/**
 * The environment, parsed once. This is the only module that reads `process.env`; everything else
 * receives a `Config`. A bad value stops the start with one message that lists every problem.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

// Defined in shared (below every layer); re-exported for callers that already import them from here.
export { LOCALES, type Locale };

const TRUST_PROXY_HELP = 'must be a hop count (1, 2…) or comma-separated addresses/CIDRs of the proxies (e.g. 10.0.0.0/8,127.0.0.1), or loopback';
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrCidr(part: string): boolean {
  if (PROXY_NAMES.has(part)) return true;
  const [address, bits, ...rest] = part.split('/');
  const family = isIP(address ?? '');
  if (!family || rest.length) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

function isTrustProxy(value: string): boolean {
  if (/^\d{1,2}$/.test(value)) return Number(value) >= 1;
  return value.split(',').every((p) => isAddressOrCidr(p.trim()));
}

/** Fastify's `trustProxy`: a hop count, a list of addresses, or off. */
function parseTrustProxy(value: string | undefined): number | string[] | false {
  if (value === undefined) return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((p) => p.trim());
}

export const ROLES = ['all', 'web', 'worker', 'whatsapp'] as const;
export type Role = (typeof ROLES)[number];

const schema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
    DATA_DIR: z.string().min(1).default('./.data'),
    ADMIN_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
    TELEGRAM_BOT_TOKEN: optionalString.pipe(
      z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'must look like 123456:ABC-DEF…').optional(),
    ),
    TELEGRAM_API_ROOT: z
      .url({ protocol: /^https?$/ })
      .default('https://api.telegram.org')
      .transform((v) => v.replace(/\/+$/, '')),
    TELEGRAM_WEBHOOK_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    TELEGRAM_WEBHOOK_SECRET: optionalString.pipe(
      z
        .string()
        // Telegram allows 1–256 characters; a short one falls to guessing in seconds, so we ask for 24.
        .regex(/^[A-Za-z0-9_-]{24,256}$/, 'must be 24–256 characters of A–Z, a–z, 0–9, _ and - (e.g. `openssl rand -hex 16`)')
        .optional(),
    ),
    TELEGRAM_RATE_PER_SECOND: z.coerce.number().int().min(1).max(1000).default(30),
    WHATSAPP_ENABLED: bool.default(false),
    CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
    /** Where the linked WhatsApp device is kept: files under DATA_DIR, or Postgres (survives a new container). */
    WHATSAPP_SESSION_STORE: z.enum(['local', 'postgres']).default('local'),
    /** Pause between two WhatsApp messages: a random value between these (ms). */
    WHATSAPP_MIN_DELAY_MS: z.coerce.number().int().min(0).default(3000),
    WHATSAPP_MAX_DELAY_MS: z.coerce.number().int().min(0).default(10_000),
    /** Messages per UTC day over the whole number; broadcasts may use 80% of it. */
    WHATSAPP_DAILY_CAP: z.coerce.number().int().min(1).default(1000),
    /** Scheduled restart of the WhatsApp client (Chromium memory); 0 = never. */
    WHATSAPP_RESTART_HOURS: z.coerce.number().min(0).default(24),
    /** OCR of receipts without a usable fiscal QR (tesseract.js, offline; ~200 MB RAM per language set in use). */
    RECEIPT_OCR: z.enum(['off', 'on']).default('off'),
    /** `pt` (before the split) means pt-PT; a Brazilian deployment says pt-BR. */
    DEFAULT_LOCALE: z.enum(LOCALE_TAGS).default('pl').transform((t): Locale => normalizeLocale(t) ?? 'pl'),
    ROLE: z.enum(ROLES).default('all'),
    /** Key for the HMAC of redeemable codes; unset → generated once and kept in DATA_DIR. */
    CODE_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    /** AES-256-GCM key for e-voucher codes (64 hex or 44 base64 characters); unset → generated once in DATA_DIR. */
    VOUCHER_KEY: optionalString.pipe(
      z.string().regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'must be 32 bytes as 64 hex or 44 base64 characters').optional(),
    ),
    /** Proxies in front of us whose X-Forwarded-For is believed: a hop count, or addresses/CIDRs. */
    TRUST_PROXY: optionalString.pipe(z.string().refine(isTrustProxy, TRUST_PROXY_HELP).optional()).transform(parseTrustProxy),
    /** Queue and key prefix in Redis; unset → derived from the database, so two deployments never share queues. */
    REDIS_PREFIX: optionalString.pipe(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1–64 characters of A–Z, a–z, 0–9, _ . and -').optional()),
    /** /docs (OpenAPI): `public`, `token` (an admin bearer token, or ?token=), or `off`. Unset: public outside production. */
    DOCS: optionalString.pipe(z.enum(['public', 'token', 'off']).optional()),
    /** Hours an uploaded web-chat photo is kept in the upload area before it is deleted (a receipt moves to the media store at once). */
    UPLOAD_RETENTION_HOURS: z.coerce.number().int().min(1).max(24 * 365).default(24),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  });

export type Config = z.output<typeof schema>;

/** `/docs` access when DOCS is unset: open while developing, behind a token in production. */
export const docsAccess = (config: Config): 'public' | 'token' | 'off' =>
  config.DOCS ?? (config.NODE_ENV === 'production' ? 'token' : 'public');

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Rules between variables, checked on the raw values so they are reported with the others. */
function crossProblems(env: Record<string, string | undefined>): string[] {
  const set = (name: string) => Boolean(env[name]?.trim());
  const problems: string[] = [];
  if (set('TELEGRAM_WEBHOOK_URL') !== set('TELEGRAM_WEBHOOK_SECRET')) {
    const missing = set('TELEGRAM_WEBHOOK_URL') ? 'TELEGRAM_WEBHOOK_SECRET' : 'TELEGRAM_WEBHOOK_URL';
    problems.push(`${missing}: webhook mode needs both TELEGRAM_WEBHOOK_URL and TELEGRAM_WEBHOOK_SECRET`);
  }
  if (set('TELEGRAM_WEBHOOK_URL') && !set('TELEGRAM_BOT_TOKEN')) {
    problems.push('TELEGRAM_BOT_TOKEN: webhook mode needs a bot token');
  }
  return problems;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  const problems = [
    ...(parsed.error?.issues ?? []).map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`),
    ...crossProblems(env),
  ];
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

export function telegramMode(config: Config): 'off' | 'polling' | 'webhook' {
  if (!config.TELEGRAM_BOT_TOKEN) return 'off';
  return config.TELEGRAM_WEBHOOK_URL && config.TELEGRAM_WEBHOOK_SECRET ? 'webhook' : 'polling';
}
