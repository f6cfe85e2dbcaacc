/**
 * The languages Punkto speaks. Defined here, at the bottom of the import chain, so domain rules,
 * repositories and the environment schema can name a language without importing config or i18n.
 */
export const LOCALES = ['pl', 'pt', 'be'] as const;
export type Locale = (typeof LOCALES)[number];

/** A text given per language, e.g. a reward or campaign name: `{ pl: 'Kubek', pt: 'Caneca' }`. */
export type LocalizedText = Partial<Record<Locale, string>>;

export function isLocalizedText(value: unknown): value is LocalizedText {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return (
    entries.length > 0 &&
    entries.every(([k, v]) => (LOCALES as readonly string[]).includes(k) && typeof v === 'string')
  );
}

/** The text in `locale`, else in the first language that has one (pl, pt, be order). */
export function pickLocalized(value: string | LocalizedText, locale: Locale): string {
  if (typeof value === 'string') return value;
  const own = value[locale]?.trim();
  if (own) return own;
  for (const l of LOCALES) if (value[l]?.trim()) return value[l]!.trim();
  return '';
}
