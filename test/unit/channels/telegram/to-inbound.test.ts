import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import type { Update } from 'grammy/types';
import { parseCommand, telegramToInbound } from '../../../../src/channels/telegram/to-inbound.js';

const fixture = (name: string): Update =>
  JSON.parse(readFileSync(new URL(`../../../fixtures/telegram/${name}.json`, import.meta.url), 'utf8')) as Update;

const loadFile = vi.fn(async (fileId: string) => Buffer.from(`bytes of ${fileId}`));
const now = () => new Date('2026-11-23T10:00:00Z');
const convert = (name: string) => telegramToInbound(fixture(name), { loadFile, now });

describe('telegramToInbound', () => {
  it('turns a private text into text, with who wrote it and their language hint', () => {
    expect(convert('text')).toEqual({
      kind: 'text',
      text: 'Kasia Nowak',
      messageId: '48123001:17',
      from: { channel: 'telegram', externalId: '48123001', chatId: '48123001', displayName: 'Kasia Nowak', localeHint: 'pl' },
      receivedAt: new Date(1763870400 * 1000),
    });
  });

  it('reads a deep link as the start command with its payload', () => {
    const inbound = convert('start-deep-link');
    expect(inbound).toMatchObject({ kind: 'command', command: 'start', payload: 'c_7f3a9b', messageId: '35191002:1' });
    expect(inbound?.from.localeHint).toBe('pt-br');
  });

  it('lower-cases commands and drops the @botname suffix', () => {
    expect(convert('command-with-botname')).toMatchObject({ kind: 'command', command: 'language' });
    expect(convert('command-with-botname')).not.toHaveProperty('payload');
  });

  it('parses commands the way Telegram delimits them', () => {
    expect(parseCommand('/start')).toEqual({ command: 'start' });
    expect(parseCommand('/start   abc_DEF-1  ')).toEqual({ command: 'start', payload: 'abc_DEF-1' });
    expect(parseCommand('/help@Punkto_bot')).toEqual({ command: 'help' });
    expect(parseCommand('/ start')).toBeUndefined();
    expect(parseCommand('1/2 price')).toBeUndefined();
    expect(parseCommand('/żółw')).toBeUndefined();
  });

  it('offers the largest photo size, downloading it only when asked', async () => {
    loadFile.mockClear();
    const inbound = convert('photo');
    expect(inbound).toMatchObject({ kind: 'photo', caption: 'paragon z Biedronki', media: { ref: 'AgACAgIAAxkBAAIBHmd-large', size: 151320 } });
    expect(loadFile).not.toHaveBeenCalled();
    if (inbound?.kind !== 'photo') throw new Error('not a photo');
    expect((await inbound.media.load()).toString()).toBe('bytes of AgACAgIAAxkBAAIBHmd-large');
    expect(loadFile).toHaveBeenCalledWith('AgACAgIAAxkBAAIBHmd-large');
  });

  it('treats an image sent as a file as a photo, and other files as unsupported documents', () => {
    expect(convert('document-image')).toMatchObject({
      kind: 'photo',
      media: { ref: 'BQACAgIAAxkBAAIBH2d-doc', mimeType: 'image/jpeg', fileName: 'IMG_20251122_181233.jpg', size: 3481203 },
    });
    expect(convert('document-pdf')).toMatchObject({ kind: 'unsupported', what: 'document' });
  });

  it('passes an image over the 20 MB bots may download with its size, and never tries to fetch it', async () => {
    loadFile.mockClear();
    const inbound = convert('document-too-large');
    expect(inbound).toMatchObject({ kind: 'photo', media: { size: 24117248 } });
    if (inbound?.kind !== 'photo') throw new Error('not a photo');
    await expect(inbound.media.load()).rejects.toThrow(/download limit/);
    expect(loadFile).not.toHaveBeenCalled();
  });

  it('marks a contact as own only when it carries the sender\'s user id', () => {
    expect(convert('contact-own')).toMatchObject({ kind: 'contact', phone: '+351912345678', own: true });
    expect(convert('contact-foreign')).toMatchObject({ kind: 'contact', phone: '+351913000111', own: false });
    expect(convert('contact-no-user-id')).toMatchObject({ kind: 'contact', own: false });
  });

  it('turns a button press into a choice with an id that survives re-delivery', () => {
    const inbound = convert('callback-query');
    expect(inbound).toMatchObject({ kind: 'choice', value: 'lang:be', messageId: 'cb:4382bfdwdsb323b2d9' });
    expect(inbound?.from).toMatchObject({ externalId: '37529003', chatId: '37529003', localeHint: 'be' });
    expect(inbound?.receivedAt).toEqual(now());
  });

  it('gives the same message id for the same update delivered twice, whatever its update_id', () => {
    const first = telegramToInbound(fixture('text'), { loadFile });
    const again = telegramToInbound({ ...fixture('text'), update_id: 999 }, { loadFile });
    expect(again?.messageId).toBe(first?.messageId);
  });

  it.each([
    ['location', 'location'],
    ['voice', 'voice'],
    ['sticker', 'sticker'],
  ])('answers %s as unsupported so the engine can say so politely', (name, what) => {
    expect(convert(name)).toMatchObject({ kind: 'unsupported', what });
  });

  it.each(['group-message', 'edited-message', 'blocked', 'callback-inline-message'])('ignores %s', (name) => {
    expect(convert(name)).toBeUndefined();
  });
});
