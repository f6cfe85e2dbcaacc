/**
 * Which language to speak with someone. The one home of the rule; the broadcast audience query
 * repeats it in SQL (db/broadcasts) and a test keeps the two equal.
 *
 * Order: the participant's own choice, else the channel's hint (Telegram language_code, the
 * browser's language), else the phone's country, else the program's language. A Portuguese tag
 * without a region ("pt", also a `pt` stored before the split) takes its variant from the phone's
 * country, else from the program's market: a Brazilian program's "pt" participant reads pt-BR.
 */
import { normalizeLocale, portugueseOf, type Locale, type Market } from '../shared/locale.js';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** Maps a Telegram language_code / browser tag ("pt-BR", "be", "ru"?) to one of ours, if any. */
export function localeFromTag(tag: string | undefined | null, portuguese?: Locale): Locale | undefined {
  return normalizeLocale(tag, portuguese);
}

/** The country of a phone number in E.164 (or digits with the country code), if it has one we serve. */
export function phoneCountry(phone: string | undefined | null): 'PL' | 'PT' | 'BR' | 'BY' | undefined {
  if (!phone) return undefined;
  const digits = phone.replace(/\D/g, '');
  if (digits.startsWith('48')) return 'PL';
  if (digits.startsWith('351')) return 'PT';
  if (digits.startsWith('55')) return 'BR';
  if (digits.startsWith('375')) return 'BY';
  // Anything else: ask the numbering plan (so +1… is never mistaken for one of ours).
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  const c = parsed?.country;
  return c === 'PL' || c === 'PT' || c === 'BR' || c === 'BY' ? c : undefined;
}

/** Country calling code → language: +48 pl; +351 pt-PT; +55 pt-BR; +375 be. */
export function localeFromPhone(phone: string | undefined | null): Locale | undefined {
  const country = phoneCountry(phone);
  return country ? ({ PL: 'pl', PT: 'pt-PT', BR: 'pt-BR', BY: 'be' } as const)[country] : undefined;
}

/** Participant's choice, else the channel's hint, else the phone's country, else the program's language. */
export function resolveLocale(input: {
  chosen?: string | null;
  hint?: string | null;
  phone?: string | null;
  market?: Market | null;
  fallback: Locale;
}): Locale {
  const byPhone = localeFromPhone(input.phone);
  // Portuguese without a region: the phone's variant if it is a Portuguese-speaking number,
  // else the program's (its market's, or its own language when that is one of the two).
  const portuguese: Locale =
    byPhone === 'pt-PT' || byPhone === 'pt-BR'
      ? byPhone
      : input.market
        ? portugueseOf(input.market)
        : input.fallback === 'pt-BR'
          ? 'pt-BR'
          : 'pt-PT';
  return (
    localeFromTag(input.chosen, portuguese) ??
    localeFromTag(input.hint, portuguese) ??
    byPhone ??
    input.fallback
  );
}
