/**
 * Texts that depend only on a number are kept once made (src/i18n/index.ts): every one must read
 * exactly as i18next renders it, in every plural form of every language, and a text with more than
 * the number in it must never be answered from that store.
 */
import { describe, expect, it } from 'vitest';
import { createI18n, LOCALES } from '../../../src/i18n/index.js';

const counts = [...Array.from({ length: 130 }, (_, i) => i), 1001, 1002, 1005, 1011, 1021, 12_345, 1_000_000, 2_000_002, 1.5];

describe('counted texts', () => {
  for (const locale of LOCALES) {
    it(`read as i18next renders them (${locale})`, () => {
      const i18n = createI18n({ defaultLocale: 'pl' });
      const t = i18n.t(locale);
      for (const key of ['common:points', 'bot:balance.available', 'rewards:details.stock']) {
        for (const count of counts) {
          const direct = i18n.instance.t(key, { count, lng: locale });
          expect(t(key, { count }), `${key} ${count}`).toBe(direct);
          expect(t(key, { count }), `${key} ${count}, again`).toBe(direct);
        }
      }
    });
  }

  it('a text with the number and something else is rendered every time', () => {
    const t = createI18n({ defaultLocale: 'pl' }).t('pl');
    const a = t('broadcasts:compose.preview', { text: 'Promocja A', count: 3 });
    const b = t('broadcasts:compose.preview', { text: 'Promocja B', count: 3 });
    expect(a).toContain('Promocja A');
    expect(b).toContain('Promocja B');
  });
});
