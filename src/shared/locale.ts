/**
 * The languages Punkto speaks and the markets it sells in. Defined here, at the bottom of the
 * import chain, so domain rules, repositories and the environment schema can name a language
 * without importing config or i18n.
 *
 * Portuguese is two locales: a Brazilian reader and a Portuguese one need different words (nota
 * fiscal / talão, Pix / IBAN, celular / telemóvel) and different number and plural rules. The bare
 * `pt` is still accepted wherever a language comes from outside (a stored participant, a name given
 * per language, `DEFAULT_LOCALE`, a Telegram language_code): it means "Portuguese, whichever variant
 * fits" and is resolved by the phone's country or the program's market.
 */
export const LOCALES = ['pl', 'pt-PT', 'pt-BR', 'be'] as const;
export type Locale = (typeof LOCALES)[number];

/** Tags accepted from outside: ours, plus `pt` for either Portuguese variant. */
export const LOCALE_TAGS = [...LOCALES, 'pt'] as const;
export type LocaleTag = (typeof LOCALE_TAGS)[number];

/** Where a program runs: its default language, Portuguese variant, phone region and documents. */
export const MARKETS = ['PL', 'PT', 'BR', 'BY'] as const;
export type Market = (typeof MARKETS)[number];

export const MARKET_LOCALE: Record<Market, Locale> = { PL: 'pl', PT: 'pt-PT', BR: 'pt-BR', BY: 'be' };
export const MARKET_CURRENCY: Record<Market, string> = { PL: 'PLN', PT: 'EUR', BR: 'BRL', BY: 'BYN' };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

export function isMarket(value: unknown): value is Market {
  return typeof value === 'string' && (MARKETS as readonly string[]).includes(value);
}

/** The Portuguese variant of a market: Brazil's is pt-BR, every other market's pt-PT. */
export function portugueseOf(market: Market | null | undefined): Locale {
  return market === 'BR' ? 'pt-BR' : 'pt-PT';
}

/**
 * A tag from outside ("pt-br", "pt_PT", "PL", "be-BY", "pt") → one of ours. A bare or unknown-region
 * Portuguese tag takes `portuguese` (the caller's best guess), else pt-PT.
 */
export function normalizeLocale(tag: string | null | undefined, portuguese?: Locale): Locale | undefined {
  if (!tag) return undefined;
  const [base, region] = tag.trim().toLowerCase().split(/[-_]/);
  if (base === 'pl') return 'pl';
  if (base === 'be') return 'be';
  if (base !== 'pt') return undefined;
  if (region === 'br') return 'pt-BR';
  if (region === 'pt') return 'pt-PT';
  return portuguese ?? 'pt-PT';
}

/** A text given per language, e.g. a reward or campaign name: `{ pl: 'Kubek', 'pt-BR': 'Caneca' }`. */
export type LocalizedText = Partial<Record<LocaleTag, string>>;

export function isLocalizedText(value: unknown): value is LocalizedText {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return (
    entries.length > 0 &&
    entries.every(([k, v]) => (LOCALE_TAGS as readonly string[]).includes(k) && typeof v === 'string')
  );
}

/** Where to look for a text when `locale` has none: Portuguese first in the same variant, then `pt`, then the other. */
const LOOKUP: Record<Locale, readonly LocaleTag[]> = {
  pl: ['pl'],
  'pt-PT': ['pt-PT', 'pt', 'pt-BR'],
  'pt-BR': ['pt-BR', 'pt', 'pt-PT'],
  be: ['be'],
};

/**
 * The text written for `locale` (for Portuguese: the variant, else `pt`, else the other variant), or
 * '' — for texts that have a default of their own (a campaign's name), which beats another language.
 */
export function ownLocalized(value: LocalizedText, locale: Locale): string {
  for (const l of LOOKUP[locale]) {
    const own = value[l]?.trim();
    if (own) return own;
  }
  return '';
}

/** The text in `locale` (see ownLocalized), else in the first language that has one. */
export function pickLocalized(value: string | LocalizedText, locale: Locale): string {
  if (typeof value === 'string') return value;
  const own = ownLocalized(value, locale);
  if (own) return own;
  for (const l of LOCALE_TAGS) if (value[l]?.trim()) return value[l]!.trim();
  return '';
}
