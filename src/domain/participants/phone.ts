/**
 * Phone numbers as people type them in each market: "(11) 91234-5678" in Brazil, "912 345 678" in
 * Portugal, "8 029 123-45-67" in Belarus. Parsed and validated by libphonenumber-js (Google's
 * numbering plans) with the program's market as the region of a number typed without a country code,
 * so "11 91234-5678" in a Brazilian program is +55 11…, never a +1 number.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { isMarket, type Locale, type Market } from '../../shared/locale.js';

const LOCALE_MARKET: Record<Locale, Market> = { pl: 'PL', 'pt-PT': 'PT', 'pt-BR': 'BR', be: 'BY' };

/** The region a national number belongs to: a market, or the market a language is spoken in. */
export function regionOf(where: Market | Locale): Market {
  return isMarket(where) ? where : LOCALE_MARKET[where];
}

/**
 * A typed phone number to E.164, or undefined if it is not a valid number. Accepts spaces, dashes,
 * dots, brackets, a leading 00 or +, and the national trunk prefix ("8 029…" in Belarus).
 * `possibleOnly` is for numbers a platform already verified (a Telegram contact): any number of a
 * possible length is kept, since a plan's list of valid ranges lags behind new ones.
 */
export function normalizePhone(input: string, where: Market | Locale = 'PL', options: { possibleOnly?: boolean } = {}): string | undefined {
  const trimmed = input.trim();
  if (!/^[+(\d][\d\s\-().]{5,24}$/.test(trimmed)) return undefined;
  const international = trimmed.replace(/^00/, '+');
  const parsed = parsePhoneNumberFromString(international, regionOf(where) as CountryCode);
  if (!parsed) return undefined;
  const ok = options.possibleOnly ? parsed.isPossible() : parsed.isValid();
  return ok ? parsed.number : undefined;
}

/** A stored E.164 number as its owner writes it: national form at home, international otherwise. */
export function formatPhone(e164: string, where: Market | Locale): string {
  const parsed = parsePhoneNumberFromString(e164);
  if (!parsed) return e164;
  return parsed.country === regionOf(where) ? parsed.formatNational() : parsed.formatInternational();
}

// One plausible mobile number per market, written the local way in prompts ("for example …").
const EXAMPLES: Record<Market, string> = { PL: '+48512345678', PT: '+351912345678', BR: '+5511912345678', BY: '+375291234567' };

/** "512 345 678", "912 345 678", "(11) 91234-5678", "8 029 123-45-67". */
export function phoneExample(where: Market | Locale): string {
  return formatPhone(EXAMPLES[regionOf(where)], where);
}
