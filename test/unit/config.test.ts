import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, telegramMode } from '../../src/config.js';

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      REDIS_URL: 'redis://127.0.0.1:6379',
      DATA_DIR: './.data',
      TELEGRAM_API_ROOT: 'https://api.telegram.org',
      TELEGRAM_RATE_PER_SECOND: 30,
      WHATSAPP_ENABLED: false,
      CHROMIUM_PATH: '/usr/bin/chromium',
      DEFAULT_LOCALE: 'pl',
      ROLE: 'all',
    });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(telegramMode(c)).toBe('off');
  });

  it('lists every problem of a bad environment in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        DEFAULT_LOCALE: 'en',
        ROLE: 'everything',
        TELEGRAM_WEBHOOK_URL: 'https://example.org/hook',
        TELEGRAM_RATE_PER_SECOND: '5000',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'DATABASE_URL', 'DEFAULT_LOCALE', 'ROLE', 'TELEGRAM_RATE_PER_SECOND', 'TELEGRAM_WEBHOOK_SECRET', 'TELEGRAM_BOT_TOKEN']) {
      expect(problems).toContain(name);
    }
    expect((error as ConfigError).message.split('\n').length).toBeGreaterThanOrEqual(8);
  });

  it('chooses webhook mode only with both URL and secret, and strips a trailing slash of the API root', () => {
    const base = { TELEGRAM_BOT_TOKEN: '123:abc', TELEGRAM_API_ROOT: 'http://127.0.0.1:9999/' };
    expect(telegramMode(loadConfig(base))).toBe('polling');
    expect(loadConfig(base).TELEGRAM_API_ROOT).toBe('http://127.0.0.1:9999');
    expect(
      telegramMode(loadConfig({ ...base, TELEGRAM_WEBHOOK_URL: 'https://x.org/tg', TELEGRAM_WEBHOOK_SECRET: 's3cret_0123456789abcdefghij' })),
    ).toBe('webhook');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', ADMIN_TOKEN: '  ' }).DATABASE_URL).toBeUndefined();
  });
});
