import { describe, expect, it } from 'vitest';
import { createFlows, type FlowModule } from '../../src/dialog/flow.js';
import { mainMenu, menuItems } from '../../src/dialog/menu.js';
import { createI18n } from '../../src/i18n/index.js';
import { nextRegistrationStep, normalizePhone, type Participant, type ProgramInfo } from '../../src/domain/participants/index.js';
import { webToInbound } from '../../src/channels/web/adapter.js';
import { localeFromAcceptLanguage } from '../../src/http/routes/webchat.js';
import { limiterFor } from '../../src/jobs/outbox/sender.js';
import type { Sql } from '../../src/db/sql.js';

const participant = (over: Partial<Participant> = {}): Participant => ({
  id: 'p1', programId: 'g1', status: 'active', role: 'consumer', locale: null, name: 'Ania', phone: '+48600100200',
  phoneVerified: true, store: null, profile: {}, consentVersion: '1', consentAt: new Date(), muted: false,
  registeredAt: new Date(), erasedAt: null, createdAt: new Date(), ...over,
});
const program = (over: Partial<ProgramInfo> = {}): ProgramInfo => ({
  id: 'g1', slug: 'default', name: 'Punkto', defaultLocale: 'pl', timeZone: 'Europe/Warsaw', termsVersion: '1', profileQuestions: [], ...over,
});

describe('flows registry', () => {
  it('refuses modules whose ids, menu values or steps would collide', () => {
    const ok: FlowModule = { id: 'codes', menu: [{ labelKey: 'x', value: 'codes:enter' }], steps: { 'codes.enter': () => undefined } };
    expect(() => createFlows([ok, { ...ok }])).toThrow(/share the id/);
    expect(() => createFlows([{ id: 'reg' }])).toThrow(/reserved/);
    expect(() => createFlows([{ id: 'codes', menu: [{ labelKey: 'x', value: 'other:enter' }] }])).toThrow(/must start with "codes:"/);
    expect(() => createFlows([{ id: 'codes', steps: { 'sales.x': () => undefined } }])).toThrow(/must start with "codes."/);
    const flows = createFlows([ok, { id: 'sales' }]);
    expect(flows.forChoice('codes:enter')?.id).toBe('codes');
    expect(flows.forStep('codes.enter')?.id).toBe('codes');
    expect(flows.forChoice('menu:balance')).toBeUndefined();
  });
});

describe('main menu', () => {
  const t = createI18n({ defaultLocale: 'pl' }).t('pl');
  it('shows "coming soon" slots until a module claims them, and the sale item only to staff', () => {
    const none = createFlows([]);
    expect(menuItems(none, participant()).map((i) => i.value)).toEqual([
      'menu:soon:code', 'menu:soon:receipt', 'menu:balance', 'menu:soon:rewards', 'menu:help', 'menu:language',
    ]);
    expect(menuItems(none, participant({ role: 'installer' })).map((i) => i.value)).toContain('menu:soon:sale');
    const codes = createFlows([{ id: 'codes', menu: [{ slot: 'code', labelKey: 'bot:menu.code', value: 'codes:enter' }, { labelKey: 'bot:menu.help', value: 'codes:extra', order: 99 }] }]);
    const values = menuItems(codes, participant()).map((i) => i.value);
    expect(values[0]).toBe('codes:enter');
    expect(values).not.toContain('menu:soon:code');
    expect(values.at(-1)).toBe('codes:extra');
  });
  it('lays buttons out two per row with localized labels', () => {
    const m = mainMenu(createFlows([]), participant(), t);
    expect(m.text).toBe('Menu główne. Co chcesz zrobić?');
    expect(m.choices!.every((row) => row.length <= 2)).toBe(true);
    expect(m.choices!.flat().map((c) => c.label)).toContain('💰 Moje punkty');
  });
});

describe('registration progress', () => {
  it('asks what is missing, in order', () => {
    const q = { id: 'city', text: { pl: 'Miasto?' } };
    expect(nextRegistrationStep(participant({ consentVersion: null }), program())).toEqual({ step: 'consent' });
    expect(nextRegistrationStep(participant(), program({ termsVersion: '2' }))).toEqual({ step: 'consent' });
    expect(nextRegistrationStep(participant({ name: null }), program())).toEqual({ step: 'name' });
    expect(nextRegistrationStep(participant({ role: null }), program())).toEqual({ step: 'role' });
    expect(nextRegistrationStep(participant({ role: 'sales_rep' }), program())).toEqual({ step: 'store' });
    expect(nextRegistrationStep(participant(), program({ profileQuestions: [q] }))).toEqual({ step: 'profile', questionId: 'city' });
    expect(nextRegistrationStep(participant({ profile: { city: null } }), program({ profileQuestions: [q] }))).toEqual({ step: 'done' });
  });

  it('normalizes typed phone numbers to E.164', () => {
    expect(normalizePhone('600 100 200', 'pl')).toBe('+48600100200');
    expect(normalizePhone('+351 912-345-678')).toBe('+351912345678');
    expect(normalizePhone('00375 29 123 45 67')).toBe('+375291234567');
    expect(normalizePhone('8 029 123 45 67', 'be')).toBe('+375291234567');
    expect(normalizePhone('912 345 678', 'pt-PT')).toBe('+351912345678');
    expect(normalizePhone('hello')).toBeUndefined();
    expect(normalizePhone('12')).toBeUndefined();
    expect(normalizePhone('+48 600 100 200 300 400 500')).toBeUndefined();
  });
});

describe('web chat input', () => {
  const sql = {} as Sql;
  const from = { chatId: 'wabc', localeHint: 'pt-PT' };
  it('turns page input into Inbound messages: commands with payloads, texts, choices', () => {
    expect(webToInbound(sql, { kind: 'text', text: '/start c_12' }, from, 'm1')).toMatchObject({ kind: 'command', command: 'start', payload: 'c_12', messageId: 'm1', from: { channel: 'web', externalId: 'wabc', localeHint: 'pt-PT' } });
    expect(webToInbound(sql, { kind: 'text', text: '/MyData' }, from, 'm2')).toMatchObject({ kind: 'command', command: 'mydata' });
    expect(webToInbound(sql, { kind: 'text', text: '  olá  ' }, from, 'm3')).toMatchObject({ kind: 'text', text: 'olá' });
    expect(webToInbound(sql, { kind: 'choice', value: 'menu:balance' }, from, 'm4')).toMatchObject({ kind: 'choice', value: 'menu:balance' });
    expect(webToInbound(sql, { kind: 'text', text: '/ 12' }, from, 'm5')).toMatchObject({ kind: 'text' });
  });
  it('picks the browser language among pl, pt, be by preference', () => {
    expect(localeFromAcceptLanguage('de, be;q=0.5, pt;q=0.6', 'pl')).toBe('pt-PT');
    expect(localeFromAcceptLanguage('en-GB', 'be')).toBe('be');
    expect(localeFromAcceptLanguage(undefined, 'pt-PT')).toBe('pt-PT');
  });
});

describe('sender pacing', () => {
  it('spreads a channel rate into windows of one send', () => {
    expect(limiterFor(30)).toEqual({ max: 1, duration: 33 });
    expect(limiterFor(1)).toEqual({ max: 1, duration: 1000 });
    expect(limiterFor(1000)).toEqual({ max: 20, duration: 20 });
  });
});

describe('program language', () => {
  it('DEFAULT_LOCALE decides the default program’s language; other programs keep their own', async () => {
    const { toProgramInfo } = await import('../../src/services/participants/program.js');
    const row = { id: 'g', slug: 'default', name: 'P', defaultLocale: 'pl', timeZone: 'UTC', termsVersion: '1', settings: {} };
    expect(toProgramInfo(row, 'be').defaultLocale).toBe('be');
    expect(toProgramInfo({ ...row, slug: 'brand-x', defaultLocale: 'pt-PT' }, 'be').defaultLocale).toBe('pt-PT');
  });
});
