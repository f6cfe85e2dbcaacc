/**
 * The broadcast texts as participants and managers read them: numbers agree with their noun, and
 * the words are the program's own ("akcja", "акцыя", "менеджары").
 */
import { describe, expect, it } from 'vitest';
import { createI18n } from '../../../src/i18n/index.js';

const i18n = createI18n({ defaultLocale: 'pl' });
const pl = i18n.t('pl');
const pt = i18n.t('pt-PT');
const be = i18n.t('be');

describe('broadcast texts', () => {
  it('tells the manager how many people the broadcast reaches, in the right grammatical form', () => {
    expect(pl('broadcasts:compose.queued', { count: 1 })).toContain('do 1 osoby w jej języku');
    expect(pl('broadcasts:compose.queued', { count: 3 })).toContain('do 3 osób');
    expect(pl('broadcasts:compose.queued', { count: 25 })).toContain('do 25 osób');
    expect(pt('broadcasts:compose.queued', { count: 1 })).toContain('a 1 pessoa,');
    expect(pt('broadcasts:compose.queued', { count: 7 })).toContain('a 7 pessoas');
    expect(be('broadcasts:compose.queued', { count: 1 })).toContain('да 1 чалавека на яго мове');
    expect(be('broadcasts:compose.queued', { count: 22 })).toContain('да 22 чалавек');
    expect(be('broadcasts:compose.queued', { count: 5 })).toContain('да 5 чалавек');
  });

  it('calls a campaign what the rest of the chat calls it', () => {
    const endsOn = '1 grudnia 2026';
    expect(pl('broadcasts:auto.campaign_started', { name: 'Zima', endsOn })).toMatch(/^🎉 Rusza akcja „Zima”!/);
    expect(pl('broadcasts:auto.campaign_ended', { name: 'Zima' })).toMatch(/^🏁 Akcja „Zima” właśnie się zakończyła/);
    expect(be('broadcasts:auto.campaign_started', { name: 'Зіма', endsOn })).toMatch(/^🎉 Пачалася акцыя «Зіма»!/);
    expect(be('broadcasts:auto.campaign_ended', { name: 'Зіма' })).toMatch(/^🏁 Акцыя «Зіма» толькі што скончылася/);
  });

  it('reads naturally when muting and when refused', () => {
    expect(pt('broadcasts:mute.done')).toMatch(/^🔕 Já não vai receber anúncios\./);
    expect(be('broadcasts:mute.done')).toContain('На вашы паведамленні мы будзем адказваць і далей');
    expect(be('broadcasts:compose.not_allowed')).toContain('менеджары');
    expect(be('broadcasts:compose.not_allowed')).not.toContain('мэнэджар');
  });
});
