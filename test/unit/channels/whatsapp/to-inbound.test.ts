import { describe, expect, it } from 'vitest';
import { whatsappToInbound, type ToInboundDeps } from '../../../../src/channels/whatsapp/to-inbound.js';
import { matchMenuReply, type MenuOption } from '../../../../src/channels/numbered-menu.js';
import { phoneFromVCard, jidKind } from '../../../../src/channels/whatsapp/identity.js';
import { waMessage } from '../../../fakes/whatsapp-client.js';

const PT = '351912345678';
const deps = (over: Partial<ToInboundDeps> = {}): ToInboundDeps => ({
  identifyLid: async (lid) => ({ externalId: lid }),
  currentMenu: async () => [],
  ...over,
});

const menu: MenuOption[] = [
  { label: 'Inserir código', value: 'codes:enter' },
  { label: '💰 O meu saldo', value: 'menu:balance' },
  { label: 'Prémios', value: 'rewards:list' },
];

async function inbound(msg: Parameters<typeof whatsappToInbound>[0], d = deps()) {
  const r = await whatsappToInbound(msg, d);
  if (r.kind !== 'inbound') throw new Error(`ignored: ${r.reason}`);
  return r.inbound;
}

describe('whatsapp message → Inbound', () => {
  it('identifies a @c.us sender by verified phone, with a Portuguese hint and the reply chat', async () => {
    const i = await inbound(waMessage({ from: `${PT}@c.us`, body: '  Olá ', notifyName: 'Ana Sousa' }));
    expect(i).toMatchObject({
      kind: 'text',
      text: 'Olá',
      from: { channel: 'whatsapp', externalId: PT, chatId: `${PT}@c.us`, verifiedPhone: `+${PT}`, localeHint: 'pt-PT', displayName: 'Ana Sousa' },
    });
    expect(i.messageId).toMatch(/^false_351912345678@c\.us_/);
  });

  it.each([
    ['48601234567', 'pl'],
    ['5511987654321', 'pt-BR'],
    ['375291234567', 'be'],
    ['4915112345678', undefined],
  ])('hints the language of +%s as %s', async (digits, locale) => {
    const i = await inbound(waMessage({ from: `${digits}@c.us`, body: 'hi' }));
    expect(i.from.localeHint).toBe(locale);
  });

  it('takes the identity of a @lid sender from the lid store: the phone when known, else the lid', async () => {
    const resolved = await inbound(
      waMessage({ from: '123456789012345@lid', body: 'oi' }),
      deps({ identifyLid: async () => ({ externalId: PT, phoneDigits: PT }) }),
    );
    expect(resolved.from).toMatchObject({ externalId: PT, verifiedPhone: `+${PT}`, localeHint: 'pt-PT', chatId: '123456789012345@lid' });
    const unresolved = await inbound(waMessage({ from: '123456789012345@lid', body: 'oi' }));
    expect(unresolved.from.externalId).toBe('123456789012345@lid');
    expect(unresolved.from.verifiedPhone).toBeUndefined();
    // A lid first seen without a phone keeps the lid as its id; the phone learnt later only verifies it.
    const later = await inbound(
      waMessage({ from: '123456789012345@lid', body: 'oi' }),
      deps({ identifyLid: async (lid) => ({ externalId: lid, phoneDigits: PT }) }),
    );
    expect(later.from).toMatchObject({ externalId: '123456789012345@lid', verifiedPhone: `+${PT}` });
  });

  it('does not fall back to the lid when the lid store fails (that would split the participant)', async () => {
    await expect(
      whatsappToInbound(waMessage({ from: '123456789012345@lid', body: 'oi' }), deps({ identifyLid: async () => Promise.reject(new Error('db down')) })),
    ).rejects.toThrow('db down');
  });

  it('ignores groups, status updates, own messages and system notices', async () => {
    const cases = [
      [waMessage({ from: '120363000000000000@g.us', author: `${PT}@c.us`, body: 'hi all' }), 'group'],
      [waMessage({ from: 'status@broadcast', body: 'my status' }), 'status'],
      [waMessage({ from: `${PT}@c.us`, body: 'sent by us', fromMe: true }), 'own'],
      [waMessage({ from: `${PT}@c.us`, type: 'e2e_notification' }), 'system'],
      [waMessage({ from: `${PT}@c.us`, type: 'revoked' }), 'system'],
      [waMessage({ from: '1234@newsletter', body: 'news' }), 'broadcast'],
    ] as const;
    for (const [msg, reason] of cases) expect(await whatsappToInbound(msg, deps())).toEqual({ kind: 'ignored', reason });
  });

  it('passes an image on as a photo that downloads once, with its caption', async () => {
    const bytes = Buffer.from('fake-jpeg-bytes');
    const msg = waMessage({ from: `${PT}@c.us`, body: 'talão', media: { mimetype: 'image/jpeg', data: bytes } });
    const i = await inbound(msg);
    if (i.kind !== 'photo') throw new Error(i.kind);
    expect(i.caption).toBe('talão');
    expect(i.media.mimeType).toBe('image/jpeg');
    expect(msg.downloads).toBe(0);
    expect(await i.media.load()).toEqual(bytes);
    expect(await i.media.load()).toEqual(bytes);
    expect(msg.downloads).toBe(1);
  });

  it('treats an image sent as a document as a photo, other documents as unsupported', async () => {
    const img = await inbound(waMessage({ from: `${PT}@c.us`, type: 'document', media: { mimetype: 'image/png', data: Buffer.from('x'), filename: 'r.png' } }));
    expect(img.kind).toBe('photo');
    const pdf = await inbound(waMessage({ from: `${PT}@c.us`, type: 'document', media: { mimetype: 'application/pdf', data: Buffer.from('x') } }));
    expect(pdf).toMatchObject({ kind: 'unsupported', what: 'document' });
  });

  it.each([
    ['location', 'location'],
    ['audio', 'audio'],
    ['ptt', 'voice'],
    ['sticker', 'sticker'],
    ['video', 'video'],
    ['poll_creation', 'other'],
  ])('turns %s into unsupported %s', async (type, what) => {
    expect(await inbound(waMessage({ from: `${PT}@c.us`, type }))).toMatchObject({ kind: 'unsupported', what });
  });

  it('reads a shared contact card, and knows when it is the sender’s own number', async () => {
    const own = `BEGIN:VCARD\nVERSION:3.0\nFN:Ana\nTEL;type=CELL;type=VOICE;waid=${PT}:+351 912 345 678\nEND:VCARD`;
    const other = 'BEGIN:VCARD\nVERSION:3.0\nFN:Rui\nTEL;type=CELL:+351 936 000 111\nEND:VCARD';
    expect(await inbound(waMessage({ from: `${PT}@c.us`, type: 'vcard', body: own, vCards: [own] }))).toMatchObject({ kind: 'contact', phone: `+${PT}`, own: true });
    expect(await inbound(waMessage({ from: `${PT}@c.us`, type: 'vcard', body: other, vCards: [other] }))).toMatchObject({ kind: 'contact', phone: '+351936000111', own: false });
  });

  it('reads /commands with payloads', async () => {
    expect(await inbound(waMessage({ from: `${PT}@c.us`, body: '/start c_summer' }))).toMatchObject({ kind: 'command', command: 'start', payload: 'c_summer' });
    expect(await inbound(waMessage({ from: `${PT}@c.us`, body: '/Menu' }))).toMatchObject({ kind: 'command', command: 'menu' });
  });

  it('maps a reply to the open menu — by number or label — to the choice', async () => {
    const d = deps({ currentMenu: async (id) => (id === PT ? menu : []) });
    for (const reply of ['2', ' 2. ', '2)', '2️⃣', 'o meu saldo', 'O MEU SALDO!', '2. 💰 O meu saldo']) {
      expect(await inbound(waMessage({ from: `${PT}@c.us`, body: reply }), d), reply).toMatchObject({ kind: 'choice', value: 'menu:balance' });
    }
    expect(await inbound(waMessage({ from: `${PT}@c.us`, body: 'premios' }), d)).toMatchObject({ kind: 'choice', value: 'rewards:list' });
    // Out of range, or free text: plain text for the flow to judge.
    expect(await inbound(waMessage({ from: `${PT}@c.us`, body: '7' }), d)).toMatchObject({ kind: 'text', text: '7' });
    expect(await inbound(waMessage({ from: `${PT}@c.us`, body: 'ABCD-1234' }), d)).toMatchObject({ kind: 'text' });
    // Another chat's menu does not apply.
    expect(await inbound(waMessage({ from: '48601234567@c.us', body: '2' }), d)).toMatchObject({ kind: 'text', text: '2' });
  });
});

describe('menu replies and ids', () => {
  it('does not guess between two options with the same label', () => {
    const twins = [{ label: 'Sim', value: 'a' }, { label: 'sim', value: 'b' }];
    expect(matchMenuReply(twins, 'sim')).toBeUndefined();
    expect(matchMenuReply(twins, '2')).toEqual({ label: 'sim', value: 'b' });
  });

  it('reads local and international vCard numbers', () => {
    expect(phoneFromVCard('BEGIN:VCARD\nTEL:0048 601 234 567\nEND:VCARD')).toBe('+48601234567');
    expect(phoneFromVCard('BEGIN:VCARD\nitem1.TEL;waid=375291234567:+375 29 123-45-67\nEND:VCARD')).toBe('+375291234567');
    expect(phoneFromVCard('BEGIN:VCARD\nTEL:912 345 678\nEND:VCARD')).toBe('912345678');
    expect(phoneFromVCard('BEGIN:VCARD\nFN:nobody\nEND:VCARD')).toBeUndefined();
  });

  it('classifies jids', () => {
    expect(jidKind('48601234567@c.us')).toBe('user');
    expect(jidKind('99@lid')).toBe('lid');
    expect(jidKind('1-2@g.us')).toBe('group');
    expect(jidKind('status@broadcast')).toBe('status');
  });
});
