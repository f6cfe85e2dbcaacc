import { describe, expect, it } from 'vitest';
import { flatten } from '../../helpers/locale-keys.js';
import { loadResources, LOCALES, createI18n, formatNumber } from '../../../src/i18n/index.js';

const SUFFIX = /(_whatsapp)?(_(zero|one|two|few|many|other))?$/;
const PLURAL = /_(zero|one|two|few|many|other)$/;


const placeholders = (s: string) => [...s.matchAll(/{{\s*([\w.]+)/g)].map((m) => m[1]).sort();

/**
 * Plural forms each language must have, as the runtime's ICU data says (i18next selects with
 * Intl.PluralRules): pl and be one/few/many/other; pt one/many/other, where "many" is what ICU picks
 * for 1 000 000, 2 000 000… A missing form makes i18next fall back to the default language.
 */
const REQUIRED_FORMS = Object.fromEntries(
  LOCALES.map((l) => [l, new Intl.PluralRules(l).resolvedOptions().pluralCategories]),
) as unknown as Record<(typeof LOCALES)[number], readonly string[]>;

describe('locales', () => {
  const resources = loadResources();
  const flat = Object.fromEntries(
    LOCALES.map((l) => [
      l,
      Object.fromEntries(
        Object.entries(resources[l]).flatMap(([ns, tree]) =>
          Object.entries(flatten(tree as Record<string, unknown>)).map(([k, v]) => [`${ns}:${k}`, v]),
        ),
      ),
    ]),
  ) as Record<(typeof LOCALES)[number], Record<string, string>>;
  const bases = (l: (typeof LOCALES)[number]) => new Set(Object.keys(flat[l]).map((k) => k.replace(SUFFIX, '')));

  it('has the same keys in pl, pt-PT, pt-BR and be', () => {
    for (const a of LOCALES) for (const b of LOCALES) {
      const missing = [...bases(a)].filter((k) => !bases(b).has(k));
      expect(missing, `keys of ${a} missing in ${b}`).toEqual([]);
    }
  });

  it('has every plural form each language needs', () => {
    for (const l of LOCALES) {
      const plurals = new Set(Object.keys(flat[l]).filter((k) => PLURAL.test(k)).map((k) => k.replace(PLURAL, '')));
      for (const base of plurals) for (const form of REQUIRED_FORMS[l]) {
        expect(flat[l], `${l} ${base}_${form}`).toHaveProperty([`${base}_${form}`]);
      }
    }
  });

  it('uses the same placeholders in every language', () => {
    for (const key of bases('pl')) {
      const of = (l: (typeof LOCALES)[number]) =>
        [...new Set(Object.entries(flat[l]).filter(([k]) => k.replace(SUFFIX, '') === key).flatMap(([, v]) => placeholders(v)))].sort();
      expect(of('pt-PT'), `${key} pt`).toEqual(of('pl'));
      expect(of('be'), `${key} be`).toEqual(of('pl'));
    }
  });

  it('has no empty texts', () => {
    for (const l of LOCALES) for (const [k, v] of Object.entries(flat[l])) expect(v.trim(), `${l} ${k}`).not.toBe('');
  });

  it('chooses plural forms and number formats as a native speaker expects', () => {
    const i18n = createI18n({ defaultLocale: 'pl' });
    const pl = i18n.t('pl');
    const be = i18n.t('be');
    const pt = i18n.t('pt-PT');
    const br = i18n.t('pt-BR');
    expect(pl('points', { count: 1 })).toBe('1 punkt');
    expect(pl('points', { count: 3 })).toBe('3 punkty');
    expect(pl('points', { count: 12 })).toBe('12 punktów');
    expect(pl('points', { count: 22 })).toBe('22 punkty');
    expect(be('points', { count: 21 })).toBe('21 бал');
    expect(be('points', { count: 3 })).toBe('3 балы');
    expect(be('points', { count: 11 })).toBe('11 балаў');
    expect(pt('points', { count: 1 })).toBe('1 ponto');
    expect(pt('points', { count: 0 })).toBe('0 pontos');
    expect(pt('points', { count: 2 })).toBe('2 pontos');
    expect(pt('points', { count: 1_000_000 })).toBe('1\u00a0000\u00a0000 pontos');
    expect(br('points', { count: 0 })).toBe('0 pontos');
    expect(br('points', { count: 1 })).toBe('1 ponto');
    expect(br('points', { count: 1_000_000 })).toBe('1.000.000 pontos');
    expect(br('points', { count: 12345 })).toBe('12.345 pontos');
    expect(pt('bot:balance.available', { count: 1_000_000 })).toBe(pt('bot:balance.available', { count: 5 }).replace('5', '1\u00a0000\u00a0000'));
    expect(formatNumber('pl', 1234567)).toBe('1\u00a0234\u00a0567');
  });
});
