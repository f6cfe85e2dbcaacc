import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next, { type i18n as I18nInstance, type TFunction } from 'i18next';
import { LOCALES, isLocale, type Locale } from '../shared/locale.js';
import { DEFAULT_TIME_ZONE, formatDate, formatDateTime, formatNumber } from './format.js';

export { LOCALES, isLocale, type Locale };
export * from './format.js';
// The locale rule lives in domain/participants/locale.ts; re-exported for the callers of i18n.
export { localeFromTag, localeFromPhone, portugueseFor, resolveLocale } from '../domain/participants/locale.js';

export const LOCALES_DIR = fileURLToPath(new URL('../../locales/', import.meta.url));

export type Translate = TFunction;

/**
 * What a text depends on besides its language: the program's time zone (every date a person sees
 * is in it) and the channel, whose variant of a text is used when it has one (`key_whatsapp`:
 * WhatsApp shows numbered options, not buttons).
 */
export interface TextScope {
  timeZone?: string;
  channel?: 'telegram' | 'whatsapp' | 'web';
}

export interface I18n {
  /** A `t` bound to a locale (and scope); keys are `namespace:key` (namespace = file name in locales/<lng>/). */
  t(locale: Locale, scope?: TextScope): Translate;
  readonly instance: I18nInstance;
}

/** Channels that have their own variants of texts (i18next context). */
export const CHANNEL_CONTEXTS = ['whatsapp'] as const;

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
    // Every locale file is complete (a test keeps them so); the fallback only covers a key added
    // in a hurry, and Portuguese then reads the other variant rather than Polish.
    fallbackLng: { 'pt-PT': ['pt-BR'], 'pt-BR': ['pt-PT'], default: [options.defaultLocale] },
    supportedLngs: [...LOCALES],
    load: 'currentOnly',
    ns: namespaces,
    defaultNS: 'common',
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  const zoneOf = (o: unknown) => (o as { timeZone?: string } | undefined)?.timeZone ?? options.timeZone ?? DEFAULT_TIME_ZONE;
  const lngOf = (lng: string | undefined): Locale => (isLocale(lng) ? lng : options.defaultLocale);
  // One number style per locale tag: {{n, number}} and {{n, points}} both go through formatNumber.
  for (const name of ['points', 'number']) {
    instance.services.formatter?.add(name, (value, lng) => formatNumber(lngOf(lng), Number(value)));
  }
  instance.services.formatter?.add('date', (value, lng, o) => formatDate(lngOf(lng), value as Date | string, zoneOf(o)));
  instance.services.formatter?.add('datetime', (value, lng, o) => formatDateTime(lngOf(lng), value as Date | string, zoneOf(o)));

  // i18next's getFixedT function copies every option of the instance on each call (it was a third
  // of the CPU of rendering a chat reply); passing the language with the call translates the same.
  const fixed = new Map<string, Translate>();
  const t = (locale: Locale, scope: TextScope = {}): Translate => {
    const id = `${locale}|${scope.timeZone ?? ''}|${scope.channel ?? ''}`;
    let f = fixed.get(id);
    if (!f) {
      const bound: Record<string, unknown> = { lng: locale };
      if (scope.timeZone) bound.timeZone = scope.timeZone;
      if (scope.channel && (CHANNEL_CONTEXTS as readonly string[]).includes(scope.channel)) bound.context = scope.channel;
      const slow = instance.getFixedT(locale);
      const translate = (key: string, opts?: unknown, ...rest: unknown[]): string =>
        opts === undefined || (typeof opts === 'object' && opts !== null)
          ? (instance.t(key, { ...bound, ...(opts as object | undefined) }) as string)
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
      fixed.set(id, f);
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
