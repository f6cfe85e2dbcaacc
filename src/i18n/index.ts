import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next, { type i18n as I18nInstance, type TFunction } from 'i18next';
import { LOCALES, type Locale } from '../shared/locale.js';

export { LOCALES, type Locale };

export const LOCALES_DIR = fileURLToPath(new URL('../../locales/', import.meta.url));

/** BCP 47 tags for Intl formatting; pt follows the program's market (pt-PT or pt-BR). */
export const INTL_TAG: Record<Locale, string> = { pl: 'pl-PL', pt: 'pt-PT', be: 'be-BY' };

export type Translate = TFunction;

export interface I18n {
  /** A `t` bound to a locale; keys are `namespace:key` (namespace = file name in locales/<lng>/). */
  t(locale: Locale): Translate;
  readonly instance: I18nInstance;
}

export function loadResources(dir = LOCALES_DIR): Record<Locale, Record<string, unknown>> {
  const resources = {} as Record<Locale, Record<string, unknown>>;
  for (const lng of LOCALES) {
    resources[lng] = {};
    const lngDir = path.join(dir, lng);
    for (const file of readdirSync(lngDir).filter((f) => f.endsWith('.json')).sort()) {
      resources[lng][file.replace(/\.json$/, '')] = JSON.parse(readFileSync(path.join(lngDir, file), 'utf8'));
    }
  }
  return resources;
}

export function createI18n(options: { defaultLocale: Locale; timeZone?: string }): I18n {
  const resources = loadResources();
  const namespaces = Object.keys(resources.pl);
  const instance = i18next.createInstance();
  void instance.init({
    resources: resources as never,
    lng: options.defaultLocale,
    fallbackLng: options.defaultLocale,
    supportedLngs: [...LOCALES],
    ns: namespaces,
    defaultNS: 'common',
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  // Numbers and dates in messages: {{points, number}}, {{when, datetime}}, formatted per language.
  instance.services.formatter?.add('points', (value, lng) => formatNumber((lng ?? 'pl') as Locale, Number(value)));
  instance.services.formatter?.add('date', (value, lng) =>
    formatDate((lng ?? 'pl') as Locale, value as Date | string, options.timeZone),
  );
  instance.services.formatter?.add('datetime', (value, lng) =>
    formatDateTime((lng ?? 'pl') as Locale, value as Date | string, options.timeZone),
  );
  // i18next's getFixedT function copies every option of the instance on each call (it was a third
  // of the CPU of rendering a chat reply); passing the language with the call translates the same.
  const fixed = new Map<Locale, Translate>();
  const t = (locale: Locale): Translate => {
    let f = fixed.get(locale);
    if (!f) {
      const slow = instance.getFixedT(locale);
      const translate = (key: string, opts?: unknown, ...rest: unknown[]): string =>
        opts === undefined || (typeof opts === 'object' && opts !== null)
          ? (instance.t(key, { ...(opts as object | undefined), lng: (opts as { lng?: string } | undefined)?.lng ?? locale }) as string)
          : (slow as unknown as (...a: unknown[]) => string)(key, opts, ...rest);
      // A text that depends only on a number ("250 punktów") is said in most replies: kept once
      // made, since i18next's plural and interpolation steps cost far more than a lookup.
      const counted = new Map<string, string>();
      f = ((key: string, opts?: unknown, ...rest: unknown[]) => {
        if (rest.length || !onlyCount(opts)) return translate(key, opts, ...rest);
        const memo = `${opts.count}|${key}`;
        let text = counted.get(memo);
        if (text === undefined) {
          if (counted.size >= 20_000) counted.clear();
          counted.set(memo, (text = translate(key, opts)));
        }
        return text;
      }) as unknown as Translate;
      fixed.set(locale, f);
    }
    return f;
  };
  return { instance, t };
}

function onlyCount(opts: unknown): opts is { count: number } {
  if (typeof opts !== 'object' || opts === null || typeof (opts as { count?: unknown }).count !== 'number') return false;
  for (const k in opts) if (k !== 'count') return false;
  return true;
}

// The locale rule lives in domain/participants/locale.ts; re-exported for the callers of i18n.
export { isLocale, localeFromTag, localeFromPhone, resolveLocale } from '../domain/participants/locale.js';

// Building an Intl formatter costs far more than formatting with one (it was the largest single
// cost of a chat reply): one per locale and option set, kept for the process.
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function cached<F extends Intl.NumberFormat | Intl.DateTimeFormat>(key: string, make: () => F): F {
  let f = formatters.get(key) as F | undefined;
  if (!f) formatters.set(key, (f = make()));
  return f;
}

export function formatNumber(locale: Locale, value: number): string {
  return cached(`n|${locale}`, () => new Intl.NumberFormat(INTL_TAG[locale], { maximumFractionDigits: 2 })).format(value);
}

export function formatDate(locale: Locale, value: Date | string, timeZone = 'Europe/Warsaw'): string {
  return cached(`d|${locale}|${timeZone}`, () => new Intl.DateTimeFormat(INTL_TAG[locale], { dateStyle: 'medium', timeZone })).format(
    new Date(value),
  );
}

export function formatDateTime(locale: Locale, value: Date | string, timeZone = 'Europe/Warsaw'): string {
  return cached(
    `dt|${locale}|${timeZone}`,
    () => new Intl.DateTimeFormat(INTL_TAG[locale], { dateStyle: 'medium', timeStyle: 'short', timeZone }),
  ).format(new Date(value));
}
