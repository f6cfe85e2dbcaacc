/**
 * The one rule for a participant's language, used by replies (i18n, services/participants) and
 * by broadcasts (rendered as SQL from the same tables in db/participants/locale-sql.ts): their own
 * choice, else the chat's language hint, else the phone's country, else the program's default.
 *
 * Portuguese is two locales. A tag with a region says which ("pt-br", "pt_PT"); a bare "pt" (a
 * Telegram language_code, a participant stored before the split) takes the variant of the phone's
 * country when it is +351 or +55, else the program's market's (Brazil pt-BR, elsewhere pt-PT).
 *
 * To add a language or a variant, extend the tables below; both renderings follow.
 */
import { isLocale, normalizeLocale, portugueseOf, type Locale, type Market } from '../../shared/locale.js';

export { isLocale };

/** Language tags (Telegram `language_code`, a browser's `navigator.language`) by their lower-case base. */
export const TAG_LOCALES: ReadonlyArray<readonly [base: string, locale: Locale | 'pt']> = [
  ['pl', 'pl'],
  ['pt', 'pt'],
  ['be', 'be'],
];
/** Regions that name a Portuguese variant ("pt-br" → pt-BR). */
export const PORTUGUESE_REGIONS: ReadonlyArray<readonly [region: string, locale: Locale]> = [
  ['br', 'pt-BR'],
  ['pt', 'pt-PT'],
];

/** Country calling codes (digits after `+`) → language, checked in this order. */
export const PHONE_LOCALES: ReadonlyArray<readonly [prefix: string, locale: Locale]> = [
  ['48', 'pl'],
  ['351', 'pt-PT'],
  ['55', 'pt-BR'],
  ['375', 'be'],
];

/** The base of a tag ("pt-BR", "pt_br" → "pt"), lower case, as the tables key it. */
export const tagBase = (tag: string): string => tag.toLowerCase().split(/[-_]/)[0] ?? '';

/** Maps a Telegram language_code / browser tag ("pt-BR", "be", "ru"?) to one of ours, if any; a bare "pt" → `portuguese`. */
export function localeFromTag(tag: string | undefined | null, portuguese?: Locale): Locale | undefined {
  return normalizeLocale(tag, portuguese);
}

/** Country calling code → language: +48 pl; +351 pt-PT; +55 pt-BR; +375 be. */
export function localeFromPhone(phone: string | undefined | null): Locale | undefined {
  if (!phone) return undefined;
  const digits = phone.replace(/\D/g, '');
  return PHONE_LOCALES.find(([prefix]) => digits.startsWith(prefix))?.[1];
}

/** The Portuguese variant for someone whose tag does not say: their phone's, else their program's. */
export function portugueseFor(phone: string | null | undefined, market: Market | null | undefined, fallback: Locale): Locale {
  const byPhone = localeFromPhone(phone);
  if (byPhone === 'pt-PT' || byPhone === 'pt-BR') return byPhone;
  if (market) return portugueseOf(market);
  return fallback === 'pt-BR' ? 'pt-BR' : 'pt-PT';
}

/** Participant's choice, else the channel's hint, else the phone's country, else the program's language. */
export function resolveLocale(input: {
  chosen?: string | null;
  hint?: string | null;
  phone?: string | null;
  market?: Market | null;
  fallback: Locale;
}): Locale {
  const portuguese = portugueseFor(input.phone, input.market, input.fallback);
  return (
    localeFromTag(input.chosen, portuguese) ??
    localeFromTag(input.hint, portuguese) ??
    localeFromPhone(input.phone) ??
    input.fallback
  );
}
