import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GrammyError, HttpError } from 'grammy';
import {
  CAPTION_LIMIT,
  OutboundNotRepresentable,
  TEXT_LIMIT,
  outboundToTelegramCalls,
  splitText,
} from '../../../../src/channels/telegram/to-native.js';
import { mapTelegramError } from '../../../../src/channels/telegram/errors.js';

describe('outboundToTelegramCalls', () => {
  it('sends choices as an inline keyboard, row by row', () => {
    const calls = outboundToTelegramCalls('42', {
      text: 'Wybierz język',
      choices: [[{ label: 'Polski', value: 'lang:pl' }, { label: 'Português', value: 'lang:pt' }], [{ label: 'Беларуская', value: 'lang:be' }]],
    });
    expect(calls).toEqual([
      {
        method: 'sendMessage',
        payload: {
          chat_id: '42',
          text: 'Wybierz język',
          reply_markup: {
            inline_keyboard: [
              [{ text: 'Polski', callback_data: 'lang:pl' }, { text: 'Português', callback_data: 'lang:pt' }],
              [{ text: 'Беларуская', callback_data: 'lang:be' }],
            ],
          },
        },
      },
    ]);
  });

  it('asks for the phone with a one-time request-contact keyboard', () => {
    const [call] = outboundToTelegramCalls('42', { text: 'Udostępnij numer', requestPhone: { label: '📱 Udostępnij numer' } });
    expect(call?.payload.reply_markup).toEqual({
      keyboard: [[{ text: '📱 Udostępnij numer', request_contact: true }]],
      one_time_keyboard: true,
      resize_keyboard: true,
    });
  });

  it('keeps choices next to the contact button as plain buttons', () => {
    const [call] = outboundToTelegramCalls('42', {
      text: 'Numer?',
      requestPhone: { label: 'Udostępnij' },
      choices: [[{ label: 'Wróć', value: 'back' }]],
    });
    expect(call?.payload.reply_markup).toMatchObject({ keyboard: [[{ text: 'Udostępnij', request_contact: true }], [{ text: 'Wróć' }]] });
  });

  it('removes a leftover reply keyboard on plain messages', () => {
    const [call] = outboundToTelegramCalls('42', { text: 'Dziękujemy!' });
    expect(call?.payload.reply_markup).toEqual({ remove_keyboard: true });
  });

  it('sends an image with the text as caption and the keyboard on it', () => {
    const calls = outboundToTelegramCalls('42', {
      text: 'Nagroda',
      image: { url: 'https://example.org/r.jpg' },
      choices: [[{ label: 'Zamów', value: 'reward:1' }]],
    });
    expect(calls).toEqual([
      {
        method: 'sendPhoto',
        payload: {
          chat_id: '42',
          photo: { url: 'https://example.org/r.jpg' },
          caption: 'Nagroda',
          reply_markup: { inline_keyboard: [[{ text: 'Zamów', callback_data: 'reward:1' }]] },
        },
      },
    ]);
  });

  it('sends a text too long for a caption after the photo, keyboard on the text', () => {
    const text = 'a'.repeat(CAPTION_LIMIT + 1);
    const calls = outboundToTelegramCalls('42', { text, image: { mediaKey: 'k1' }, choices: [[{ label: 'OK', value: 'ok' }]] });
    expect(calls.map((c) => c.method)).toEqual(['sendPhoto', 'sendMessage']);
    expect(calls[0]?.payload).not.toHaveProperty('caption');
    expect(calls[1]?.payload).toMatchObject({ text, reply_markup: { inline_keyboard: [[{ text: 'OK', callback_data: 'ok' }]] } });
  });

  it('splits long texts and puts the keyboard on the last part only', () => {
    const paragraph = 'Zasady programu. '.repeat(200);
    const calls = outboundToTelegramCalls('42', { text: `${paragraph}\n\n${paragraph}`, choices: [[{ label: 'Akceptuję', value: 'consent:yes' }]] });
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) expect((call.payload as { text: string }).text.length).toBeLessThanOrEqual(TEXT_LIMIT);
    expect(calls.slice(0, -1).every((c) => c.payload.reply_markup === undefined)).toBe(true);
    expect(calls.at(-1)?.payload.reply_markup).toBeDefined();
  });

  it('refuses a choice value Telegram cannot carry (over 64 bytes)', () => {
    expect(() => outboundToTelegramCalls('42', { text: 'x', choices: [[{ label: 'x', value: 'ż'.repeat(33) }]] })).toThrow(OutboundNotRepresentable);
  });

  it('splitText loses nothing but whitespace at the cuts and respects the limit', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 3000 }), fc.integer({ min: 20, max: 500 }), (text, limit) => {
        const parts = splitText(text, limit);
        for (const part of parts) expect(part.length).toBeLessThanOrEqual(limit);
        expect(parts.join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
      }),
    );
  });
});

describe('mapTelegramError', () => {
  const grammy = (error_code: number, description: string, parameters = {}) =>
    new GrammyError('call failed', { ok: false, error_code, description, parameters }, 'sendMessage', {});

  it('turns 429 into a wait of retry_after seconds', () => {
    expect(mapTelegramError(grammy(429, 'Too Many Requests: retry after 7', { retry_after: 7 }))).toEqual({ status: 'rate_limited', retryAfterMs: 7000 });
  });

  it('treats a block (403) and a chat that does not exist as unreachable', () => {
    expect(mapTelegramError(grammy(403, 'Forbidden: bot was blocked by the user'))).toMatchObject({ status: 'unreachable' });
    expect(mapTelegramError(grammy(403, 'Forbidden: user is deactivated'))).toMatchObject({ status: 'unreachable' });
    expect(mapTelegramError(grammy(400, 'Bad Request: chat not found'))).toMatchObject({ status: 'unreachable' });
  });

  it('retries server and network trouble, not a malformed request', () => {
    expect(mapTelegramError(grammy(502, 'Bad Gateway'))).toMatchObject({ status: 'failed', retryable: true });
    expect(mapTelegramError(new HttpError('Network request for sendMessage failed!', new Error('ECONNRESET')))).toMatchObject({
      status: 'failed',
      retryable: true,
    });
    expect(mapTelegramError(grammy(400, "Bad Request: can't parse entities"))).toMatchObject({ status: 'failed', retryable: false });
  });
});
