/** Pure rules of issue 22's hardening: config, the input guard, text cleaning, Telegram updates, phone masking, image sniffing. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Update } from 'grammy/types';
import { ConfigError, docsAccess, loadConfig } from '../../src/config.js';
import { findUnstorable } from '../../src/http/input-guard.js';
import { cleanChatText } from '../../src/channels/clean-text.js';
import { telegramToInbound } from '../../src/channels/telegram/to-inbound.js';
import { maskPhone } from '../../src/http/mask-phone.js';
import { imageTypeOf } from '../../src/channels/web/photo-check.js';

describe('config', () => {
  it('TRUST_PROXY takes a hop count or addresses/CIDRs, and refuses anything else', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,loopback' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'loopback']);
    for (const bad of ['0', 'true', '10.0.0.0/33', 'proxy.example', '1.2.3']) expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(ConfigError);
  });
  it('a webhook secret needs 24 characters', () => {
    const base = { TELEGRAM_BOT_TOKEN: '1:abc', TELEGRAM_WEBHOOK_URL: 'https://x.org/tg' };
    expect(() => loadConfig({ ...base, TELEGRAM_WEBHOOK_SECRET: 'a' })).toThrow(/TELEGRAM_WEBHOOK_SECRET/);
    expect(loadConfig({ ...base, TELEGRAM_WEBHOOK_SECRET: 'a'.repeat(24) }).TELEGRAM_WEBHOOK_SECRET).toHaveLength(24);
  });
  it('/docs is public while developing and behind a token in production unless DOCS says otherwise', () => {
    expect(docsAccess(loadConfig({}))).toBe('public');
    expect(docsAccess(loadConfig({ NODE_ENV: 'production' }))).toBe('token');
    expect(docsAccess(loadConfig({ NODE_ENV: 'production', DOCS: 'public' }))).toBe('public');
    expect(docsAccess(loadConfig({ DOCS: 'off' }))).toBe('off');
  });
});

describe('input guard', () => {
  it('names the path of the first value Postgres cannot store', () => {
    expect(findUnstorable({ a: [{ b: 'x\u0000' }] }, 'body')).toEqual({ path: 'body.a.0.b', message: expect.stringContaining('NUL') });
    expect(findUnstorable({ n: { pl: '\ud83d' } }, 'body')?.path).toBe('body.n.pl');
    expect(findUnstorable({ goal: 2 ** 31 }, 'body')?.path).toBe('body.goal');
    expect(findUnstorable({ goal: 2 ** 31 }, 'body', new Set(['goal']))).toBeUndefined();
    expect(findUnstorable({ from: '0000-01-01' }, 'query')?.path).toBe('query.from');
    expect(findUnstorable({ from: '+275760-09-13T00:00:00.000Z' }, 'query')?.path).toBe('query.from');
    expect(findUnstorable({ ok: '2026-12-08T10:00:00+01:00', emoji: '🌞', big: 2 ** 31 - 1, text: 'Sale 10000-01-01 ends' }, 'body')).toBeUndefined();
  });
  it('never throws on any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => void findUnstorable(v, 'body')));
  });
});

describe('chat text hygiene', () => {
  it('removes NUL, controls and ANSI escapes, replaces lone surrogates, keeps emoji and new lines', () => {
    expect(cleanChatText('Jan\u0000Kowalski')).toBe('JanKowalski');
    expect(cleanChatText('\u001b[31mred\u001b[0m\tok\nline')).toBe('red\tok\nline');
    expect(cleanChatText('a\ud800b🌞')).toBe('a\ufffdb🌞');
  });
  it('its result is always text Postgres stores', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => findUnstorable(cleanChatText(s), 'x') === undefined));
  });
});

describe('Telegram updates', () => {
  const from = { id: 601, is_bot: false, first_name: 'Kasia', language_code: 'pl' };
  const chat = { id: 601, type: 'private', first_name: 'Kasia' };
  const options = { loadFile: async () => Buffer.alloc(0) };
  const msg = (extra: Record<string, unknown>) => ({ update_id: 1, message: { message_id: 5, date: 1765180800, chat, from, ...extra } }) as unknown as Update;

  it('ignores service messages silently, known kinds and kinds added later', () => {
    const service = [
      { chat_background_set: { type: { type: 'fill', fill: { type: 'solid', color: 1 }, dark_theme_dimming: 0 } } },
      { refunded_payment: { currency: 'XTR', total_amount: 1, invoice_payload: 'p', telegram_payment_charge_id: 'c' } },
      { successful_payment: { currency: 'XTR', total_amount: 1, invoice_payload: 'p', telegram_payment_charge_id: 'c', provider_payment_charge_id: '' } },
      { gift: { gift: { id: 'g' } } },
      { forum_topic_created: { name: 't', icon_color: 1 } },
      { boost_added: { boost_count: 1 } },
      { some_service_message_from_the_future: {} },
    ];
    for (const extra of service) expect(telegramToInbound(msg(extra), options), Object.keys(extra)[0]).toBeUndefined();
    expect(telegramToInbound(msg({ text: 'hej' }), options)).toMatchObject({ kind: 'text', text: 'hej' });
    expect(telegramToInbound(msg({ sticker: { file_id: 's' } }), options)).toMatchObject({ kind: 'unsupported', what: 'sticker' });
  });

  it('drops well-formed but wrong updates instead of throwing', () => {
    const wrong = [
      { update_id: 1, message: { message_id: 5, date: 1, from, text: 'no chat' } },
      msg({ text: null }),
      msg({ text: 42 }),
      msg({ from: null, text: 'x' }),
      msg({ chat: { id: '601', type: 'private' }, text: 'x' }),
      msg({ photo: 'not a list' }),
      { update_id: 1, callback_query: { id: 'q', from, data: 'x' } },
      { update_id: 1, callback_query: { id: 'q', from: null, data: 'x', message: { chat } } },
      { update_id: 1, message: null },
      { update_id: 1 },
    ];
    for (const u of wrong) expect(() => telegramToInbound(u as unknown as Update, options), JSON.stringify(u)).not.toThrow();
    for (const u of wrong) expect(telegramToInbound(u as unknown as Update, options)).toBeUndefined();
  });

  it('cleans names and text', () => {
    const inbound = telegramToInbound(msg({ text: 'a\u0000b', from: { ...from, first_name: 'Jan\u0000' } }), options);
    expect(inbound).toMatchObject({ text: 'ab', from: { displayName: 'Jan' } });
  });

  it('never throws on random updates', () => {
    fc.assert(fc.property(fc.record({ update_id: fc.nat(), message: fc.option(fc.object(), { nil: undefined }), callback_query: fc.option(fc.object(), { nil: undefined }) }), (u) => {
      telegramToInbound(u as unknown as Update, options);
    }));
  });
});

describe('phone masking', () => {
  it('keeps the calling code and the last three digits', () => {
    expect(maskPhone('+48519000333')).toBe('+48…333');
    expect(maskPhone('+351912345678')).toBe('+351…678');
    expect(maskPhone('+375291234567')).toBe('+375…567');
    expect(maskPhone('+5511987654321')).toBe('+55…321');
  });
});

describe('image sniffing', () => {
  it('knows images by their bytes, not by the claimed type', () => {
    expect(imageTypeOf(Buffer.from('ffd8ffe000104a4649460001', 'hex'))).toBe('image/jpeg');
    expect(imageTypeOf(Buffer.from('89504e470d0a1a0a0000000d', 'hex'))).toBe('image/png');
    expect(imageTypeOf(Buffer.from('RIFF\u0000\u0000\u0000\u0000WEBPVP8 ', 'latin1'))).toBe('image/webp');
    expect(imageTypeOf(Buffer.from('%PDF-1.7 hello world'))).toBeUndefined();
    expect(imageTypeOf(Buffer.alloc(100))).toBeUndefined();
  });
});
