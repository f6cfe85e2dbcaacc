/**
 * Numbers, money and dates as a participant reads them. One formatter per locale tag for every
 * number on a screen (a balance and a history line never differ), money by the program's currency,
 * and every date in the program's time zone with the month written out: "8 grudnia 2026",
 * "8 de dezembro de 2026", "8 снежня 2026 г.".
 */
import type { Locale } from '../shared/locale.js';

/** BCP 47 tags for Intl formatting, and the plural rules i18next applies (it is given the same tags). */
export const INTL_TAG: Record<Locale, string> = { pl: 'pl-PL', 'pt-PT': 'pt-PT', 'pt-BR': 'pt-BR', be: 'be-BY' };

/** The zone of a date when the caller names none: the deployment's first market. */
export const DEFAULT_TIME_ZONE = 'Europe/Warsaw';

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

/** "1234,50 zł", "1234,50 €", "R$ 1.234,50", "1234,50 Br" ("50 zł" for whole amounts); without a currency, the number alone. */
export function formatMoney(locale: Locale, amount: number, currency: string | null | undefined): string {
  if (!currency) return formatNumber(locale, amount);
  const code = currency.toUpperCase();
  let f: Intl.NumberFormat;
  try {
    f = cached(`m|${locale}|${code}`, () => new Intl.NumberFormat(INTL_TAG[locale], { style: 'currency', currency: code, trailingZeroDisplay: 'stripIfInteger' }));
  } catch {
    return `${formatNumber(locale, amount)} ${code}`; // a code Intl does not know: still readable
  }
  return f.format(amount);
}

const CALENDAR_DAY = /^\d{4}-\d{2}-\d{2}$/;
const asDate = (value: Date | string | number): Date => (value instanceof Date ? value : new Date(value));

/** The day in running text, long month: "8 grudnia 2026". */
export function formatDate(locale: Locale, value: Date | string | number, timeZone = DEFAULT_TIME_ZONE): string {
  // A calendar day ("2026-12-08", e.g. the day points expire) is that day everywhere, not the
  // instant of its UTC midnight, which is still the 7th in Brazil.
  if (typeof value === 'string' && CALENDAR_DAY.test(value)) timeZone = 'UTC';
  return cached(`d|${locale}|${timeZone}`, () => new Intl.DateTimeFormat(INTL_TAG[locale], { dateStyle: 'long', timeZone })).format(
    asDate(value),
  );
}

/** Day and time in running text: "8 grudnia 2026 o 00:30", "8 de dezembro de 2026 às 00:30". */
export function formatDateTime(locale: Locale, value: Date | string | number, timeZone = DEFAULT_TIME_ZONE): string {
  const d = asDate(value);
  // Intl writes Polish day and hour side by side ("8 grudnia 2026 00:30"); a Pole writes "o".
  if (locale === 'pl') return `${formatDate(locale, d, timeZone)} o ${formatTime(locale, d, timeZone)}`;
  return cached(
    `dt|${locale}|${timeZone}`,
    () => new Intl.DateTimeFormat(INTL_TAG[locale], { dateStyle: 'long', timeStyle: 'short', timeZone }),
  ).format(d);
}

export function formatTime(locale: Locale, value: Date | string | number, timeZone = DEFAULT_TIME_ZONE): string {
  return cached(`t|${locale}|${timeZone}`, () => new Intl.DateTimeFormat(INTL_TAG[locale], { timeStyle: 'short', timeZone })).format(
    asDate(value),
  );
}

/** The calendar day (YYYY-MM-DD) an instant falls on in a zone: what "until 30 June" means there. */
export function dayIn(value: Date | string | number, timeZone = DEFAULT_TIME_ZONE): string {
  return cached(`day|${timeZone}`, () => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })).format(
    asDate(value),
  );
}
