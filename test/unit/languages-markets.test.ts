import { describe, expect, it } from 'vitest';
import { createI18n, formatDate, formatDateTime, formatMoney, resolveLocale } from '../../src/i18n/index.js';
import { formatPhone, normalizePhone, phoneExample } from '../../src/domain/participants/index.js';
import { normalizeLocale, pickLocalized } from '../../src/shared/locale.js';

const nb = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('Portuguese as two locales', () => {
  it('chooses pt-BR for a +55 phone and for language_code "pt-br", pt-PT for +351 and "pt-PT"', () => {
    expect(resolveLocale({ phone: '+5511912345678', fallback: 'pl' })).toBe('pt-BR');
    expect(resolveLocale({ hint: 'pt-br', fallback: 'pl' })).toBe('pt-BR');
    expect(resolveLocale({ hint: 'pt_BR', fallback: 'pl' })).toBe('pt-BR');
    expect(resolveLocale({ phone: '+351912345678', fallback: 'pt-BR' })).toBe('pt-PT');
    expect(resolveLocale({ hint: 'pt-PT', phone: '+5511912345678', fallback: 'pl' })).toBe('pt-PT');
  });

  it('gives a bare "pt" (Telegram, a participant stored before the split) the phone’s variant, else the market’s', () => {
    expect(resolveLocale({ hint: 'pt', market: 'BR', fallback: 'pt-BR' })).toBe('pt-BR');
    expect(resolveLocale({ hint: 'pt', market: 'PT', fallback: 'pt-PT' })).toBe('pt-PT');
    expect(resolveLocale({ hint: 'pt', phone: '+5511912345678', market: 'PT', fallback: 'pt-PT' })).toBe('pt-BR');
    expect(resolveLocale({ chosen: 'pt', phone: '+351912345678', market: 'BR', fallback: 'pt-BR' })).toBe('pt-PT');
    expect(resolveLocale({ hint: 'pt', fallback: 'pl' })).toBe('pt-PT');
    // A participant's own choice beats the hint and the phone.
    expect(resolveLocale({ chosen: 'be', hint: 'pt-br', phone: '+5511912345678', fallback: 'pl' })).toBe('be');
    expect(normalizeLocale('ru')).toBeUndefined();
  });

  it('reads a name given for "pt" in either variant, and a variant’s own name first', () => {
    expect(pickLocalized({ pl: 'Kubek', pt: 'Caneca' }, 'pt-BR')).toBe('Caneca');
    expect(pickLocalized({ pt: 'Caneca', 'pt-BR': 'Caneca térmica' }, 'pt-BR')).toBe('Caneca térmica');
    expect(pickLocalized({ pt: 'Caneca', 'pt-BR': 'Caneca térmica' }, 'pt-PT')).toBe('Caneca');
    expect(pickLocalized({ 'pt-BR': 'Prêmio' }, 'pt-PT')).toBe('Prêmio');
  });
});

describe('phones by the program’s market', () => {
  it('accepts the ways Brazilians write a number and stores E.164', () => {
    for (const typed of ['(11) 91234-5678', '11 91234-5678', '11912345678', '+55 11 91234-5678', '0055 11 91234 5678']) {
      expect(normalizePhone(typed, 'BR'), typed).toBe('+5511912345678');
    }
    // Never a +1 number, whatever the language of the participant.
    expect(normalizePhone('11 91234-5678', 'pt-BR')).toBe('+5511912345678');
  });

  it('reads national numbers of each market and refuses what is not a number', () => {
    expect(normalizePhone('600 100 200', 'PL')).toBe('+48600100200');
    expect(normalizePhone('912 345 678', 'PT')).toBe('+351912345678');
    expect(normalizePhone('8 029 123 45 67', 'BY')).toBe('+375291234567');
    expect(normalizePhone('+351 912-345-678', 'BR')).toBe('+351912345678');
    expect(normalizePhone('hello', 'BR')).toBeUndefined();
    expect(normalizePhone('12345', 'BR')).toBeUndefined();
    expect(normalizePhone('(11) 1234', 'BR')).toBeUndefined();
  });

  it('gives examples in the participant’s country’s own style', () => {
    expect(phoneExample('BR')).toBe('(11) 91234-5678');
    expect(phoneExample('pt-PT')).toBe('912 345 678');
    expect(phoneExample('pl')).toBe('512 345 678');
    expect(phoneExample('be')).toBe('8 029 123-45-67');
    // A Portuguese speaker in a Polish program is shown a Portuguese number with its code.
    expect(phoneExample('pt-PT', 'PL')).toBe('+351 912 345 678');
    expect(formatPhone('+5511912345678', 'BR')).toBe('(11) 91234-5678');
  });
});

describe('money and dates', () => {
  it('formats money with the program’s currency the way each locale writes it', () => {
    expect(nb(formatMoney('pt-BR', 1234.5, 'BRL'))).toBe('R$ 1.234,50');
    expect(nb(formatMoney('pt-PT', 1234.5, 'EUR'))).toBe('1234,50 €');
    expect(nb(formatMoney('pl', 1234.5, 'PLN'))).toBe('1234,50 zł');
    expect(nb(formatMoney('be', 1234.5, 'BYN'))).toBe('1234,50 Br');
    expect(nb(formatMoney('pl', 50, 'PLN'))).toBe('50 zł');
  });

  it('shows a moment near midnight on the day it is in the program’s zone, with the month written out', () => {
    const lisbonMidnight = new Date('2026-06-01T00:00:00+01:00'); // 23:00 UTC on 31 May
    expect(formatDateTime('pt-PT', lisbonMidnight, 'Europe/Lisbon')).toBe('1 de junho de 2026 às 00:00');
    expect(formatDateTime('pl', lisbonMidnight, 'Europe/Warsaw')).toBe('1 czerwca 2026 o 01:00');
    const saoPauloLate = new Date('2026-06-30T23:59:00-03:00'); // already 1 July in UTC
    expect(formatDate('pt-BR', saoPauloLate, 'America/Sao_Paulo')).toBe('30 de junho de 2026');
    expect(nb(formatDate('be', new Date('2026-12-07T22:30:00Z'), 'Europe/Minsk'))).toBe('8 снежня 2026 г.');
    // A calendar day stays that day in any zone.
    expect(formatDate('pt-BR', '2026-12-08', 'America/Sao_Paulo')).toBe('8 de dezembro de 2026');
  });

  it('follows a DST change: 00:30 local before and after the clocks move', () => {
    // Lisbon leaves summer time on 25 October 2026.
    expect(formatDateTime('pt-PT', new Date('2026-10-24T23:30:00Z'), 'Europe/Lisbon')).toBe('25 de outubro de 2026 às 00:30');
    expect(formatDateTime('pt-PT', new Date('2026-10-26T00:30:00Z'), 'Europe/Lisbon')).toBe('26 de outubro de 2026 às 00:30');
  });

  it('renders {{x, date}} in the zone a t is bound to, and one number style per locale', () => {
    const i18n = createI18n({ defaultLocale: 'pl' });
    const at = new Date('2026-06-30T23:30:00-03:00');
    const br = i18n.t('pt-BR', { timeZone: 'America/Sao_Paulo' });
    const waw = i18n.t('pt-BR');
    expect(br('codes:campaign_over', { code: 'X', at })).toContain('30 de junho de 2026');
    expect(waw('codes:campaign_over', { code: 'X', at })).toContain('1 de julho de 2026');
    expect(br('points', { count: 12345 })).toBe('12.345 pontos');
    expect(nb(i18n.t('pt-PT')('points', { count: 12345 }))).toBe('12 345 pontos');
  });
});
