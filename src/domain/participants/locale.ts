/**
 * The one rule for a participant's language, used by replies (i18n, services/participants) and
 * by broadcasts (rendered as SQL from the same tables in db/participants/locale-sql.ts): their own
 * choice, else the chat's language hint, else the phone's country, else the program's default.
 *
 * To add a language or a variant, extend the tables below (a tag's base or full form in
 * `TAG_LOCALES`, a calling code in `PHONE_LOCALES`, most specific first); both renderings follow.
 */
import { LOCALES, type Locale } from '../../shared/locale.js';

/** Language tags (Telegram `language_code`, a browser's `navigator.language`) by their lower-case base. */
export const TAG_LOCALES: ReadonlyArray<readonly [base: string, locale: Locale]> = LOCALES.map((l) => [l, l] as const);

/** Country calling codes (digits after `+`) → language, checked in this order. */
export const PHONE_LOCALES: ReadonlyArray<readonly [prefix: string, locale: Locale]> = [
  ['48', 'pl'],
  ['351', 'pt'],
  ['55', 'pt'],
  ['375', 'be'],
];

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** The base of a tag ("pt-BR", "pt_br" → "pt"), lower case, as the tables key it. */
export const tagBase = (tag: string): string => tag.toLowerCase().split(/[-_]/)[0] ?? '';

/** Maps a Telegram language_code / browser tag ("pt-BR", "be", "ru"?) to one of ours, if any. */
export function localeFromTag(tag: string | undefined | null): Locale | undefined {
  if (!tag) return undefined;
  const base = tagBase(tag);
  return TAG_LOCALES.find(([b]) => b === base)?.[1];
}

/** Country calling code → language: +48 pl; +351, +55 pt; +375 be. */
export function localeFromPhone(phone: string | undefined | null): Locale | undefined {
  if (!phone) return undefined;
  const digits = phone.replace(/\D/g, '');
  return PHONE_LOCALES.find(([prefix]) => digits.startsWith(prefix))?.[1];
}

/** Participant's choice, else the channel's hint, else the phone's country, else the default. */
export function resolveLocale(input: { chosen?: string | null; hint?: string | null; phone?: string | null; fallback: Locale }): Locale {
  return (
    (isLocale(input.chosen) ? input.chosen : undefined) ??
    localeFromTag(input.hint) ??
    localeFromPhone(input.phone) ??
    input.fallback
  );
}
